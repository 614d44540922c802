"""The engine factory: one pool per process, sized and bounded from settings."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from adapters.sqlalchemy.finding import RELEVANCE_FUNCTION, sqlite_relevance

__all__ = ["create_engine"]


def create_engine(
    url: str,
    *,
    pool_size: int = 20,
    max_overflow: int = 10,
    pool_timeout: float = 2.0,
    pool_recycle: float = 1800,
    connect_timeout: float = 2.0,
    statement_timeout: float | None = 15.0,
    pool_pre_ping: bool = False,
    echo: bool = False,
) -> AsyncEngine:
    """An async engine for ``postgresql+asyncpg://…`` or ``sqlite+aiosqlite://…``.

    Every wait is bounded, so an unreachable database fails a request within seconds instead of
    hanging it: ``pool_timeout`` for a free pooled connection, ``connect_timeout`` for a new
    one, ``statement_timeout`` for one statement on PostgreSQL (lock waits included).
    Connections the server dropped (a restart, a failover) are replaced by the unit of work,
    which runs its first statement again on a new connection when the pooled one turns out
    dead (see ``SqlUnitOfWork``); ``pool_pre_ping`` would find them before they are handed
    out, at the price of three round trips (``BEGIN``, a ping, ``ROLLBACK``) on every
    checkout, so it is off unless asked for. ``pool_recycle`` retires old connections.
    PostgreSQL plans every statement for its parameters (``plan_cache_mode``, below).
    """
    parsed = make_url(url)
    options: dict[str, Any] = {
        "echo": echo,
        "pool_pre_ping": pool_pre_ping,
        "hide_parameters": True,
    }
    if parsed.get_backend_name() == "sqlite":
        # The busy timeout is how long a writer waits for another one's transaction to end.
        options["connect_args"] = {"timeout": max(connect_timeout, 5.0)}
        if parsed.database in (None, "", ":memory:"):
            # An in-memory database exists once per connection: share a single one.
            options["poolclass"] = StaticPool
        else:
            options.update(
                pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout
            )
        engine = create_async_engine(parsed, **options)
        _configure_sqlite(engine)
        return engine
    options.update(
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_recycle=pool_recycle,
        connect_args={
            "timeout": connect_timeout,
            # Checked by the driver, so it holds even when the server stops answering.
            "command_timeout": statement_timeout,
            "server_settings": {
                "application_name": "notes-service",
                # Plan every statement for its parameters. asyncpg prepares each statement
                # once per connection, and after five executions PostgreSQL may switch it to
                # a generic plan, made without the values: for a search, whose best plan
                # depends on how many notes hold its words (walk the newest notes for a
                # common word, the GIN index for a rare one), any generic plan is 10-50
                # times too slow for some searches. Only statements whose generic plan
                # would have been kept pay for it, the read by id above all: about 50 µs
                # of planning on the server.
                "plan_cache_mode": "force_custom_plan",
            },
        },
    )
    return create_async_engine(parsed, **options)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Let the unit of work decide how each SQLite transaction begins.

    The driver's own implicit transactions are turned off; a transaction starts with the
    statement the unit of work leaves in ``connection.info["sqlite_begin"]``: ``BEGIN
    IMMEDIATE`` to take the write lock before reading what is about to be changed (SQLite's
    equivalent of ``SELECT … FOR UPDATE``), plain ``BEGIN`` to read. Write-ahead logging lets
    readers go on while a writer holds the lock.
    """

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.create_function(
            RELEVANCE_FUNCTION, 3, sqlite_relevance, deterministic=True
        )
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql(connection.info.pop("sqlite_begin", "BEGIN"))
