"""The outermost layer of the app: request ids, the body limit, common headers, one log line
and the metrics of every request.

A pure ASGI middleware, wrapped around everything else (Starlette's error middleware
included, so a 500 carries a request id too), with no task or body buffering of its own:
per request it costs a few dictionary operations, one log record and two metric updates.

* ``X-Request-ID``: the client's, when it is 1 to 128 characters of ``A-Z a-z 0-9 . _ -``
  (anything else could forge log lines or carry data), else a new random one; sent back on
  every response and put on every log record made while the request is handled.
* A body over ``max_body_size`` bytes gets 413: at once when ``Content-Length`` says so,
  otherwise as soon as the bytes received pass the limit.
* Every response says ``X-Content-Type-Options: nosniff``.
* One log record per request on ``entrypoints.http.requests``: method, route template,
  status, duration, request id and the caller's user id (with ``access_log`` off, only for
  requests answered 5xx or with a database failure). An exception the app did not
  handle is logged there once, with its traceback, and not passed on to the server (which
  would log it again without the request id); the client has had its 500 already.
* A request the server cancels (its graceful shutdown ran out of time) is answered 503
  ``CUT_OFF`` if nothing was sent yet, and the cancellation goes on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application import StorageUnavailable
from entrypoints.http.context import RequestContext
from entrypoints.http.metrics import Metrics
from entrypoints.http.problems import CUT_OFF, kind_response, problem_response
from entrypoints.logs import current_request_id

__all__ = ["UNMATCHED", "RequestMiddleware", "describe_failure"]

logger = logging.getLogger("entrypoints.http.requests")

UNMATCHED: Final = "<unmatched>"
"""The route label of a request no route matched: raw paths would make labels unbounded."""

_REQUEST_ID_HEADER: Final = b"x-request-id"
_SANE_REQUEST_ID: Final = re.compile(rb"[A-Za-z0-9._-]{1,128}")
_NOSNIFF: Final = (b"x-content-type-options", b"nosniff")
_CLIENT_CLOSED: Final = 499
"""The status recorded when a request ended before any response (the client went away, or
shutdown cut it off); nginx's convention, never sent."""


def describe_failure(failure: BaseException) -> str:
    """The class names along ``failure``'s chain of causes, with the operating system's message
    where there is one, then the ``reason`` of a ``StorageUnavailable``, which its adapter
    writes for the log (the driver's error class and message, never a statement's values):
    enough to tell a refused connection from a timeout or a missing table. Never a driver's
    message as such, which may quote SQL parameters (note contents, password hashes)."""
    parts: list[str] = []
    current: BaseException | None = failure
    while current is not None and len(parts) < 5:
        text = type(current).__name__
        if isinstance(current, OSError) and current.strerror:
            text += f" ({current.strerror})"
        parts.append(text)
        current = current.__cause__ or current.__context__
    chain = " <- ".join(parts)
    reason = failure.reason if isinstance(failure, StorageUnavailable) else ""
    return f"{chain}: {reason}" if reason else chain


def _label(route: BaseRoute | None) -> str:
    """The label of a matched route: its path template, as documented (a route answers at
    both forms of its path, with and without the trailing slash)."""
    if route is None:
        return UNMATCHED
    return str(getattr(route, "path_format", UNMATCHED))


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _request_id(scope: Scope) -> str:
    sent = _header(scope, _REQUEST_ID_HEADER)
    if sent is not None and _SANE_REQUEST_ID.fullmatch(sent):
        return sent.decode("ascii")
    return os.urandom(16).hex()


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


class _TooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit:,} bytes.")


class RequestMiddleware:
    """See the module's docstring. ``app`` is the rest of the stack; ``metrics`` counts the
    requests (asked for on each request: the container hands out a new one after a restart);
    ``access_log`` off logs only the requests that failed."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Callable[[], Metrics],
        max_body_size: int,
        access_log: bool = True,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_size = max_body_size
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        context = RequestContext(_request_id(scope))
        context.attach(scope)
        token = current_request_id.set(context.request_id)
        added = ((_REQUEST_ID_HEADER, context.request_id.encode("ascii")), _NOSNIFF)
        status: int | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), *added]}
            await send(message)

        unhandled: Exception | None = None
        try:
            length = _content_length(scope)
            if length is not None and length > self.max_body_size:
                await problem_response(_TooLarge(self.max_body_size))(
                    scope, receive, send_with_headers
                )
            elif length is None:
                await self.app(scope, self._limited(receive), send_with_headers)
            else:
                # The server holds the body to its Content-Length, which is within the limit.
                await self.app(scope, receive, send_with_headers)
        except Exception as error:  # noqa: BLE001 - logged once in _record, with its traceback
            unhandled = error
            if status is None:
                await problem_response(error)(scope, receive, send_with_headers)
        except asyncio.CancelledError:
            # The server cut the request off at the end of its graceful shutdown: answer it
            # as a problem rather than leave the server's bare 500, and stay cancelled.
            if status is None:
                await kind_response(CUT_OFF)(scope, receive, send_with_headers)
            raise
        finally:
            current_request_id.reset(token)
            elapsed = time.perf_counter() - started
            self._record(scope, context, status or _CLIENT_CLOSED, elapsed, unhandled)

    def _limited(self, receive: Receive) -> Receive:
        """``receive``, raising 413 once the body passes the limit; FastAPI answers it through
        the app's exception handlers while reading the body."""
        limit = self.max_body_size
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        return receive_within_limit

    def _record(
        self,
        scope: Mapping[str, Any],
        context: RequestContext,
        status: int,
        seconds: float,
        unhandled: Exception | None,
    ) -> None:
        method: str = scope["method"]
        route = _label(scope.get("route"))
        self.metrics().observe(method, route, status, seconds, context.failure)
        if unhandled is not None:
            level = logging.ERROR
        elif context.failure is not None or status >= 500:
            level = logging.WARNING
        elif self.access_log:
            level = logging.INFO
        else:
            return
        if not logger.isEnabledFor(level):
            return
        logger.log(
            level,
            "%s %s %s",
            method,
            route,
            status,
            exc_info=unhandled,
            extra={
                "request_id": context.request_id,
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "user_id": None if context.user_id is None else str(context.user_id),
                "error": None if context.failure is None else describe_failure(context.failure),
            },
        )
