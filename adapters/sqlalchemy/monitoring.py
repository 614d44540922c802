"""What an operator asks of the database: does it answer, is its schema the service's, and
how busy is the pool."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.migrate import History
from application import SchemaOutdated

__all__ = ["ping", "pool_usage"]

_REVISION = sa.text("SELECT version_num FROM alembic_version")


async def ping(engine: AsyncEngine, history: History | None = None) -> None:
    """One round trip to the database on a pooled connection; ``StorageUnavailable`` if it
    cannot be made, and ``SchemaOutdated`` when ``history`` (the service's migrations) says
    the schema is behind. A revision the history does not know is newer than the service
    (a rolling upgrade): that schema serves it. Unbounded in time beyond the engine's own
    timeouts: callers that must answer quickly wrap it in ``asyncio.timeout``."""
    with translated():
        async with engine.connect() as connection:
            if history is None:
                await connection.execute(sa.text("SELECT 1"))
                return
            try:
                revision = (await connection.execute(_REVISION)).scalar()
            except (sa_exc.ProgrammingError, sa_exc.OperationalError) as error:
                if "alembic_version" not in str(error.orig):
                    raise
                revision = None
    if history.is_behind(revision):
        raise SchemaOutdated(f"the schema is at {revision or 'no revision'}, not {history.head}")


def pool_usage(engine: AsyncEngine) -> tuple[int, int]:
    """Connections checked out of ``engine``'s pool, and connections open beyond its size;
    ``(0, 0)`` for a pool that does not count them (SQLite's single shared connection)."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return 0, 0
    return pool.checkedout(), max(0, pool.overflow())
