"""Dropping the work of clients that hung up.

A login or registration queues a password hash of about a fifth of a second; a client that
disconnects while waiting should not keep its place in that queue. For the paths given,
``CancelOnDisconnect`` watches the connection once the request body has been read and
cancels the request's handling when the client goes away: a hash still queued is then never
computed, and nothing is answered (no one is listening).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CancelOnDisconnect"]


class CancelOnDisconnect:
    def __init__(self, app: ASGIApp, *, paths: Collection[str]) -> None:
        self.app = app
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") not in self.paths:
            await self.app(scope, receive, send)
            return
        body_read = asyncio.Event()
        gone = asyncio.Event()

        async def reading() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
            elif not message.get("more_body", False):
                body_read.set()
            return message

        answering = asyncio.Event()

        async def sending(message: Message) -> None:
            answering.set()
            await send(message)

        handling = asyncio.ensure_future(self.app(scope, reading, sending))

        async def watching() -> None:
            await body_read.wait()
            while (await receive())["type"] != "http.disconnect":
                pass
            if not answering.is_set():
                gone.set()
                handling.cancel()

        watcher = asyncio.ensure_future(watching())
        try:
            await handling
        except asyncio.CancelledError:
            if not gone.is_set() or not handling.cancelled():
                raise
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
