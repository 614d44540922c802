"""Opening and closing the configured database: the container's resources.

Each function here is an async generator: the code before ``yield`` opens a resource, the
code after it closes the resource when the container shuts down. The SQL adapter and the
embedded PostgreSQL are imported inside the functions, so a service (or a test) on the
in-memory backend never loads them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

from adapters.memory import MemoryDatabase
from application import UnitOfWorkFactory
from application.quota import Quota
from entrypoints.settings import Settings, is_memory_url

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = [
    "open_database_url",
    "open_engine",
    "pool_usage",
    "readiness_check",
    "unit_of_work_factory",
]

logger = logging.getLogger(__name__)


async def open_database_url(settings: Settings) -> AsyncIterator[str]:
    """The URL of the database the service uses.

    The configured URL when there is one. Otherwise an embedded PostgreSQL server is started
    on ``data_dir / "postgres"`` (reused if another process already runs it), migrated to the
    newest schema, and stopped at shutdown if this process started it. Starting and migrating
    block, so they run in a worker thread.
    """
    if settings.database_url is not None:
        yield settings.database_url
        return
    from adapters.embedded_postgres import EmbeddedPostgres
    from adapters.sqlalchemy import migrate

    server = EmbeddedPostgres(settings.data_dir / "postgres")
    url = await asyncio.to_thread(server.start)
    try:
        logger.info("embedded PostgreSQL running on %s", server.data_dir)
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
    finally:
        await asyncio.to_thread(server.stop)


async def open_engine(url: str, settings: Settings) -> AsyncIterator[AsyncEngine | None]:
    """The SQL engine (its connection pool) for ``url``, disposed of at shutdown; ``None`` for
    the in-memory backend, which needs none."""
    if is_memory_url(url):
        yield None
        return
    from adapters.sqlalchemy import create_engine

    engine = create_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_recycle=settings.pool_recycle,
        connect_timeout=settings.connect_timeout,
        statement_timeout=settings.statement_timeout,
        pooler=settings.database_pooler,
    )
    try:
        await _apply_quota(engine, settings)
        yield engine
    finally:
        await engine.dispose()
        logger.info("database connection pool closed")


async def _apply_quota(engine: AsyncEngine, settings: Settings) -> None:
    """Give the database the configured quota; a database not yet migrated to it (or not
    answering) keeps the one it had, with a warning."""
    from adapters.sqlalchemy.quota import set_quota

    try:
        await set_quota(engine, quota_of(settings))
    except Exception as error:  # noqa: BLE001 - start anyway, and say why
        logger.warning("the notes quota was not applied: %s", type(error).__name__)


def quota_of(settings: Settings) -> Quota:
    return Quota(max_notes=settings.quota_notes, max_bytes=settings.quota_bytes)


def unit_of_work_factory(
    engine: AsyncEngine | None, quota: Quota | None = None
) -> UnitOfWorkFactory:
    """Units of work over the SQL database behind ``engine``, or over a new in-memory database
    (with ``quota``) when there is no engine."""
    if engine is None:
        return MemoryDatabase(quota=quota).unit_of_work
    from adapters.sqlalchemy import SqlDatabase

    return SqlDatabase(engine).unit_of_work


async def _always_ready() -> None:
    """The in-memory backend lives in the process: it answers while the process does."""


def readiness_check(engine: AsyncEngine | None) -> Callable[[], Awaitable[None]]:
    """What ``/readyz`` asks: a round trip to the database behind ``engine`` that finds its
    schema not behind the service's migrations, or nothing for the in-memory backend."""
    if engine is None:
        return _always_ready
    from adapters.sqlalchemy import migrate
    from adapters.sqlalchemy.monitoring import ping

    return partial(ping, engine, migrate.history())


def pool_usage(engine: AsyncEngine | None) -> Callable[[], tuple[int, int]] | None:
    """How to read the use of ``engine``'s pool (checked out, overflow); ``None`` without one."""
    if engine is None:
        return None
    from adapters.sqlalchemy.monitoring import pool_usage as usage

    return partial(usage, engine)
