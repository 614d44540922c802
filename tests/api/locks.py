"""Slowing PostgreSQL down from outside, to hold requests in flight: a test takes an
exclusive lock on the ``notes`` table, every statement on it then waits inside the database
(where the test can count the waiting sessions), and the test lets them go when it chooses."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

_WAITING = sa.text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE application_name = 'notes-service' AND wait_event_type = 'Lock'"
)


@contextlib.asynccontextmanager
async def notes_locked(url: str) -> AsyncIterator[AsyncConnection]:
    """An exclusive lock on the ``notes`` table, held until the block ends; the connection
    holding it (roll it back to release the lock earlier)."""
    engine = create_async_engine(url)
    connection = await engine.connect()
    try:
        await connection.execute(sa.text("LOCK TABLE notes IN ACCESS EXCLUSIVE MODE"))
        yield connection
    finally:
        # A server that exits stops its embedded database, and this connection with it.
        with contextlib.suppress(sa.exc.DBAPIError):
            await connection.close()
        await engine.dispose()


async def waiting_on_locks(url: str, count: int, within_s: float = 30) -> None:
    """Return once ``count`` of the service's sessions wait for a lock."""
    # Autocommit: within one transaction, pg_stat_activity would answer the same every time.
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    deadline = time.monotonic() + within_s
    try:
        async with engine.connect() as connection:
            while (waiting := (await connection.execute(_WAITING)).scalar_one()) < count:
                assert time.monotonic() < deadline, f"{waiting} of {count} requests in flight"
                await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
