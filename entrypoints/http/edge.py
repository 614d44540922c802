"""Limits at the HTTP edge: uvicorn's httptools protocol, with a bound on the head of each
request and a deadline for it.

* The request line and headers of one request may take ``max_header_size`` bytes (give or
  take one read from the socket); beyond that the answer is 431 and the connection closes.
* A connection must send a whole request head within ``header_timeout`` seconds of opening,
  or of the first byte of its next request; one that sends nothing, or only part of its
  head, is closed then. Between requests uvicorn's keep-alive timeout applies.

``notes serve`` runs uvicorn with this protocol; the limits come from the settings
(``NOTES_MAX_HEADER_SIZE``, ``NOTES_HEADER_TIMEOUT``), read once per worker on its first
connection.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from entrypoints.http.problems import HEAD_TOO_LARGE
from entrypoints.http.schemas import Problem
from entrypoints.settings import Settings

__all__ = ["LimitedHttpToolsProtocol", "head_too_large"]


@functools.cache
def _limits() -> tuple[int, float]:
    settings = Settings()
    return settings.max_header_size, settings.header_timeout


def head_too_large(limit: int) -> bytes:
    """The raw 431 response to a request whose head passed ``limit`` bytes."""
    body = json.dumps(
        {
            "type": HEAD_TOO_LARGE.type,
            "title": HEAD_TOO_LARGE.title,
            "status": HEAD_TOO_LARGE.status,
            "detail": f"The request line and headers are larger than {limit:,} bytes.",
        }
    ).encode()
    head = (
        f"HTTP/1.1 {HEAD_TOO_LARGE.status} {HEAD_TOO_LARGE.title}\r\n"
        f"content-type: {Problem.MEDIA_TYPE}\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """See the module's docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_header_size, self.header_timeout = _limits()
        self.head_bytes = 0
        self.in_head = True
        self.head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.in_head:
            self.head_bytes += len(data)
        super().data_received(data)
        if self.in_head and self.head_bytes > self.max_header_size:
            self._disarm_head_deadline()
            if not self.transport.is_closing():
                self.transport.write(head_too_large(self.max_header_size))
                self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self.in_head:  # the next request on this connection
            self.in_head = True
            self.head_bytes = 0
            self._arm_head_deadline()

    def on_headers_complete(self) -> None:
        self.in_head = False
        self._disarm_head_deadline()
        super().on_headers_complete()

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self.head_deadline = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm_head_deadline(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def _head_timed_out(self) -> None:
        self.head_deadline = None
        if self.in_head and not self.transport.is_closing():
            self.transport.close()
