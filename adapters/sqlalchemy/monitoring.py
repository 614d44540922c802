"""What an operator asks of the database: does it answer, and how busy is the pool."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from adapters.sqlalchemy.errors import translated

__all__ = ["ping", "pool_usage"]

_PING = sa.text("SELECT 1")


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the database on a pooled connection; ``StorageUnavailable`` if it
    cannot be made. Unbounded in time beyond the engine's own timeouts: callers that must
    answer quickly wrap it in ``asyncio.timeout``."""
    with translated():
        async with engine.connect() as connection:
            await connection.execute(_PING)


def pool_usage(engine: AsyncEngine) -> tuple[int, int]:
    """Connections checked out of ``engine``'s pool, and connections open beyond its size;
    ``(0, 0)`` for a pool that does not count them (SQLite's single shared connection)."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return 0, 0
    return pool.checkedout(), max(0, pool.overflow())
