"""A TCP proxy in front of the test PostgreSQL (or MySQL), to cut the service's connections at
will."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator

from sqlalchemy.engine import make_url


class Proxy:
    """Forwards connections made to ``url`` to the server behind ``upstream_url``.

    ``drop_connections`` closes every connection it carries (as a server restart or a
    failover does) and goes on accepting new ones; ``close`` also stops accepting them, so
    the database is unreachable.
    """

    def __init__(self, upstream_url: str) -> None:
        parsed = make_url(upstream_url)
        socket_dir = parsed.query.get("host")
        self._upstream_unix = (
            f"{socket_dir}/.s.PGSQL.{parsed.port or 5432}"
            if isinstance(socket_dir, str) and socket_dir.startswith("/")
            else None
        )
        self._upstream = (parsed.host or "127.0.0.1", parsed.port or 5432)
        self._parsed = parsed
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.url = ""
        self.port = 0
        self.bytes_to_server = 0
        """How many bytes the clients have sent to the server so far."""
        self.cut_after: bytes | None = None
        """When set, the first message holding these bytes goes through to the server, and
        then every connection is cut before the server's answer can come back."""
        self._holding = False

    async def start(self, port: int = 0) -> None:
        """Listen on ``port`` (a free one by default; the one it had, to come back up)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        port = self._server.sockets[0].getsockname()[1]
        self.port = port
        self.url = (
            self._parsed.difference_update_query(["host"])
            .set(host="127.0.0.1", port=port)
            .render_as_string(hide_password=False)
        )

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        if self._upstream_unix is not None:
            server_in, server_out = await asyncio.open_unix_connection(self._upstream_unix)
        else:
            server_in, server_out = await asyncio.open_connection(*self._upstream)
        self._writers.update((client_out, server_out))
        await asyncio.gather(
            self._pipe(client_in, server_out, upstream=True),
            self._pipe(server_in, client_out, upstream=False),
        )

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, upstream: bool
    ) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await source.read(65536):
                if upstream:
                    self.bytes_to_server += len(data)
                    if self.cut_after is not None and self.cut_after in data:
                        await self._cut_after_sending(data, sink)
                        break
                elif self._holding:
                    continue  # the answer never reaches the client
                sink.write(data)
                await sink.drain()
        sink.close()
        self._writers.discard(sink)

    async def _cut_after_sending(self, data: bytes, server: asyncio.StreamWriter) -> None:
        self.cut_after = None
        self._holding = True
        server.write(data)
        await server.drain()
        # The server reads the message and acts on it; its answer is held back, then cut.
        await asyncio.sleep(0.2)
        await self.drop_connections()
        self._holding = False

    async def drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        # Let the clients' event loop see the connections close.
        await asyncio.sleep(0.05)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        await self.drop_connections()
        if self._server is not None:
            await self._server.wait_closed()


@contextlib.asynccontextmanager
async def proxied(upstream_url: str) -> AsyncIterator[Proxy]:
    proxy = Proxy(upstream_url)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


@contextlib.contextmanager
def proxy_in_thread(upstream_url: str) -> Iterator[Proxy]:
    """A proxy served by an event loop of its own in another thread, for code that runs
    its own event loop (or none): a TCP address for a server that listens on a socket."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    proxy = Proxy(upstream_url)
    asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(10)
    try:
        yield proxy
    finally:
        asyncio.run_coroutine_threadsafe(proxy.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
