"""The engine factory: one pool per process, sized and bounded from settings."""

from __future__ import annotations

import math
import uuid
from typing import Any, Final, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, StaticPool

from adapters.sqlalchemy import freshness
from adapters.sqlalchemy.dialects import configure_mysql, configure_sqlite
from adapters.sqlalchemy.gate import add_gate
from adapters.sqlalchemy.urls import database_url

__all__ = [
    "MYSQL_ISOLATION",
    "POOLERS",
    "Pooler",
    "connect_options",
    "create_engine",
    "migration_engine",
    "mysql_connect_options",
]

Pooler = Literal["none", "session", "transaction"]
"""What stands between the service and PostgreSQL: nothing (or a pooler that gives each
client a server connection of its own for its whole session: ``session``), or a pooler
that hands a server connection over at each transaction's end (``transaction``)."""
POOLERS: Final[tuple[Pooler, ...]] = get_args(Pooler)

_CUSTOM_PLANS: Final = "SET plan_cache_mode = force_custom_plan"


def connect_options(
    pooler: Pooler = "none",
    *,
    connect_timeout: float = 2.0,
    statement_timeout: float | None = 15.0,
) -> dict[str, Any]:
    """The asyncpg connection arguments for PostgreSQL behind ``pooler``.

    The startup packet carries nothing a pooler refuses (PgBouncer refuses most settings
    there; ``application_name`` it passes on). Behind a transaction pooler, statements are
    not kept prepared beyond their transaction: asyncpg's statement cache is off (it then
    uses unnamed statements, parsed again in the round trip that runs them) and statements
    SQLAlchemy prepares get unique names, so none is found, or collides with another
    client's, on a server connection it was not made on.
    """
    options: dict[str, Any] = {
        "timeout": connect_timeout,
        # Checked by the driver, so it holds even when the server stops answering.
        "command_timeout": statement_timeout,
        "server_settings": {"application_name": "notes-service"},
    }
    if pooler == "transaction":
        options.update(
            statement_cache_size=0,
            prepared_statement_cache_size=0,
            prepared_statement_name_func=_statement_name,
        )
    return options


MYSQL_ISOLATION: Final = "READ COMMITTED"
"""The isolation of MySQL transactions: PostgreSQL's default, which the ports are written
for. Each statement reads what is committed when it starts, and a locking read (``FOR
UPDATE``) locks the rows it finds, not the gaps between them: under MySQL's default,
REPEATABLE READ, a read after a lock wait would still see the snapshot of the
transaction's first read, and gap locks would make concurrent inserts of different
owners' notes deadlock."""


def mysql_connect_options(
    *, connect_timeout: float, statement_timeout: float | None
) -> dict[str, Any]:
    """The asyncmy connection arguments: bounded waits for a new connection and, when
    ``statement_timeout`` is set, for each answer (a server that stops answering fails the
    statement instead of hanging it; the server's own limit, set on each connection by
    ``configure_mysql``, ends the statement a second earlier)."""
    options: dict[str, Any] = {"connect_timeout": max(1, math.ceil(connect_timeout))}
    if statement_timeout is not None:
        options["read_timeout"] = statement_timeout + 1.0
    return options


def _statement_name() -> str:
    return f"__notes_{uuid.uuid4().hex}__"


def create_engine(
    url: str | sa.URL,
    *,
    pool_size: int = 20,
    max_overflow: int = 0,
    pool_timeout: float = 2.0,
    pool_recycle: float = 1800,
    connect_timeout: float = 2.0,
    statement_timeout: float | None = 15.0,
    pool_pre_ping: bool = False,
    pooler: Pooler = "none",
    echo: bool = False,
) -> AsyncEngine:
    """An async engine for ``postgresql+asyncpg://…``, ``sqlite+aiosqlite://…`` or
    ``mysql+asyncmy://…`` (MySQL 8, MariaDB 10.11+).

    Every wait is bounded, so an unreachable database fails a request within seconds instead of
    hanging it: ``pool_timeout`` for a free pooled connection, ``connect_timeout`` for a new
    one, ``statement_timeout`` for one statement on PostgreSQL and MySQL (lock waits
    included).
    Connections the server dropped (a restart, a failover) are replaced by the unit of work,
    which runs its first statement again on a new connection when the pooled one turns out
    dead (see ``SqlUnitOfWork``); ``pool_pre_ping`` would find them before they are handed
    out, at the price of round trips on every checkout, so it is off unless asked for.
    ``pool_recycle`` retires old connections. ``url`` may name several PostgreSQL hosts
    (see ``adapters.sqlalchemy.urls``); ``pooler`` says what stands in front of them.

    PostgreSQL plans every statement for its parameters: a search's best plan depends on
    how many notes hold its words, and a generic plan, made without the values, is far too
    slow for some searches. Each new connection sets ``plan_cache_mode`` once; behind a
    transaction pooler, where a session setting would not stay with the client, no
    statement is prepared for reuse, and PostgreSQL plans a statement prepared for one use
    with its values.
    """
    parsed = database_url(url)
    options: dict[str, Any] = {
        "echo": echo,
        "pool_pre_ping": pool_pre_ping,
        "hide_parameters": True,
    }
    if parsed.get_backend_name() == "sqlite":
        # The busy timeout is how long a writer waits for another one's transaction to end.
        options["connect_args"] = {"timeout": max(connect_timeout, 5.0)}
        shared = parsed.database in (None, "", ":memory:")
        if shared:
            # An in-memory database exists once per connection: share a single one.
            options["poolclass"] = StaticPool
        else:
            options.update(
                pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout
            )
        engine = create_async_engine(parsed, **options)
        configure_sqlite(engine)
        if not shared and max_overflow >= 0:
            add_gate(engine, pool_size + max_overflow, pool_timeout)
        return engine
    options.update(
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_recycle=pool_recycle,
    )
    if parsed.get_backend_name() == "mysql":
        engine = create_async_engine(
            parsed,
            **options,
            isolation_level=MYSQL_ISOLATION,
            connect_args=mysql_connect_options(
                connect_timeout=connect_timeout, statement_timeout=statement_timeout
            ),
        )
        configure_mysql(engine, statement_timeout=statement_timeout)
        freshness.install(engine)
        if max_overflow >= 0:
            add_gate(engine, pool_size + max_overflow, pool_timeout)
        return engine
    options["connect_args"] = connect_options(
        pooler, connect_timeout=connect_timeout, statement_timeout=statement_timeout
    )
    engine = create_async_engine(parsed, **options)
    freshness.install(engine)
    if pooler != "transaction":
        _plan_for_values(engine)
    if max_overflow >= 0:  # an unbounded overflow never makes anyone wait
        add_gate(engine, pool_size + max_overflow, pool_timeout)
    return engine


def migration_engine(url: str | sa.URL) -> AsyncEngine:
    """An engine of one connection at a time for schema work: safe behind any pooler, since
    migrations are not on a hot path."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "mysql":
        engine = create_async_engine(
            parsed,
            poolclass=NullPool,
            connect_args=mysql_connect_options(connect_timeout=10.0, statement_timeout=None),
        )
        configure_mysql(engine, statement_timeout=None)
        return engine
    if parsed.get_backend_name() != "postgresql":
        return create_async_engine(parsed, poolclass=NullPool)
    options = connect_options("transaction")
    # Told apart from the service's request traffic in pg_stat_activity and the server's logs.
    options["server_settings"] = {"application_name": "notes-service migrations"}
    return create_async_engine(parsed, poolclass=NullPool, connect_args=options)


def _plan_for_values(engine: AsyncEngine) -> None:
    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.run_async(lambda driver: driver.execute(_CUSTOM_PLANS))
