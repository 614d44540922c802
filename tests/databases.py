"""Real databases for the tests: PostgreSQL, SQLite and MySQL/MariaDB, built by the service's
migrations.

PostgreSQL comes from ``TEST_DATABASE_URL`` when it is set (any server the tests may create
a database on), otherwise from an embedded server started once per test session. Either way
the session works in a database of its own, created fresh and dropped at the end, so a
shared server is never touched outside it and two runs never meet.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.embedded_postgres import EmbeddedPostgres
from adapters.sqlalchemy import metadata
from adapters.sqlalchemy.migrate import upgrade
from adapters.sqlalchemy.urls import database_url
from tests.owner_rule import SERVICE_STATEMENTS

MYSQL_PREFIX = "notes_mysql_test_"
"""The names of the scratch databases the tests make on a MySQL server."""


def mysql_server() -> URL | None:
    """The URL of the MySQL (or MariaDB) server of ``TEST_MYSQL_URL``, if it is set; the
    tests make their scratch databases on it."""
    configured = os.environ.get("TEST_MYSQL_URL")
    return database_url(configured) if configured else None


def require_mysql() -> URL:
    """``mysql_server()``, or skip the test, saying why."""
    server = mysql_server()
    if server is None:
        pytest.skip("TEST_MYSQL_URL is not set: no MySQL or MariaDB server to run on")
    return server


@asynccontextmanager
async def scratch_mysql_database(server: URL) -> AsyncIterator[str]:
    """A new, empty database on the MySQL ``server``, dropped afterwards; yields its URL."""
    name = f"{MYSQL_PREFIX}{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server, poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            await connection.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        await admin.dispose()


def asyncpg_url(url: str) -> URL:
    """``url`` with the asyncpg driver, whichever PostgreSQL scheme it was written with."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg")


@contextmanager
def postgres_server(scratch: Path) -> Iterator[URL]:
    """The URL of a PostgreSQL server's maintenance database, for the whole session."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield asyncpg_url(configured)
        return
    server = EmbeddedPostgres(scratch / "postgres", database="postgres")
    server.start()
    try:
        yield make_url(server.url)
    finally:
        server.destroy()


@asynccontextmanager
async def scratch_postgres_database(server: URL) -> AsyncIterator[str]:
    """A new, empty database on ``server``, dropped afterwards; yields its URL."""
    name = f"notes_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@contextmanager
def scratch_database_blocking(server: URL) -> Iterator[str]:
    """``scratch_postgres_database`` for code that runs no event loop (a test of a command
    that runs its own)."""

    async def run(statement: str) -> None:
        admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                await connection.execute(sa.text(statement))
        finally:
            await admin.dispose()

    name = f"notes_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def migrated(url: str) -> None:
    """Bring the database at ``url`` to the newest revision (harness work, which the owner
    rule's statement log does not record)."""
    with SERVICE_STATEMENTS.paused():
        await asyncio.to_thread(upgrade, url)


async def empty_tables(engine: AsyncEngine) -> None:
    """Delete every row of every table the service declares (harness work, which the owner
    rule's statement log does not record).

    Tests kill connections from outside; the first statement on one of those left in the
    pool fails and invalidates the pool, so it runs once more on a new connection."""
    with SERVICE_STATEMENTS.paused():
        await _empty_tables(engine)


async def _empty_tables(engine: AsyncEngine) -> None:
    for attempt in (1, 2):
        try:
            async with engine.begin() as connection:
                if engine.dialect.name == "postgresql":
                    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
                    await connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                else:
                    for table in reversed(metadata.sorted_tables):
                        await connection.execute(table.delete())
            return
        except sa_exc.DBAPIError as error:
            if attempt == 2 or not error.connection_invalidated:
                raise
