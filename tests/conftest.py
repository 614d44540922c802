"""Database fixtures shared by every suite; see ``tests.databases``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory import MemoryDatabase
from adapters.sqlalchemy import SqlDatabase, create_engine
from adapters.sqlalchemy.engine import Pooler
from tests.databases import (
    empty_tables,
    migrated,
    postgres_server,
    require_mysql,
    scratch_mysql_database,
    scratch_postgres_database,
)
from tests.owner_rule import SERVICE_STATEMENTS, violations
from tests.pgbouncer import running_pgbouncer

# What the service sends to PostgreSQL is checked against the rule for per-user tables in
# every test of these suites (see tests.owner_rule).
_OWNER_RULE_SUITES = ("contract", "api")


def pytest_configure(config: pytest.Config) -> None:
    SERVICE_STATEMENTS.install()


@pytest.fixture(autouse=True)
async def _owner_rule(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Fail a contract or API test in which the service sent PostgreSQL a statement on a
    per-user table that does not constrain its owner."""
    checked = request.node.path.parent.name in _OWNER_RULE_SUITES
    SERVICE_STATEMENTS.take()
    yield
    if not checked:
        return
    await asyncio.sleep(0)  # asyncpg hands its query loggers the last statements now
    broken = [line for sql in SERVICE_STATEMENTS.take() for line in violations(sql)]
    if broken:
        pytest.fail("statements that break the owner rule:\n" + "\n".join(broken))


@pytest.fixture
def memory_database() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> object:
    with postgres_server(tmp_path_factory.mktemp("embedded")) as url:
        yield url


@pytest.fixture(scope="session")
async def postgres_url(postgres_server_url: URL) -> AsyncIterator[str]:
    """A migrated PostgreSQL database of this session's own."""
    async with scratch_postgres_database(postgres_server_url) as url:
        await migrated(url)
        yield url


@pytest.fixture(scope="session")
async def postgres_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url, pool_size=5, max_overflow=20)
    yield engine
    await engine.dispose()


@pytest.fixture
async def postgres_database(postgres_engine: AsyncEngine) -> SqlDatabase:
    await empty_tables(postgres_engine)
    return SqlDatabase(postgres_engine)


def _pooled_engine(url: str, pooler: Pooler) -> AsyncEngine:
    return create_engine(url, pool_size=5, max_overflow=20, pooler=pooler)


@pytest.fixture(scope="session")
async def pgbouncer_transaction_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    with running_pgbouncer(make_url(postgres_url), "transaction") as url:
        engine = _pooled_engine(url.render_as_string(hide_password=False), "transaction")
        yield engine
        await engine.dispose()


@pytest.fixture(scope="session")
async def pgbouncer_session_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    with running_pgbouncer(make_url(postgres_url), "session") as url:
        engine = _pooled_engine(url.render_as_string(hide_password=False), "session")
        yield engine
        await engine.dispose()


@pytest.fixture
async def pgbouncer_transaction_database(pgbouncer_transaction_engine: AsyncEngine) -> SqlDatabase:
    """The PostgreSQL database behind PgBouncer in transaction mode, the service told so."""
    await empty_tables(pgbouncer_transaction_engine)
    return SqlDatabase(pgbouncer_transaction_engine)


@pytest.fixture
async def pgbouncer_session_database(pgbouncer_session_engine: AsyncEngine) -> SqlDatabase:
    """The PostgreSQL database behind PgBouncer in session mode."""
    await empty_tables(pgbouncer_session_engine)
    return SqlDatabase(pgbouncer_session_engine)


@pytest.fixture(scope="session")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "notes.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    await migrated(url)
    return url


@pytest.fixture(scope="session")
async def sqlite_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sqlite_database(sqlite_engine: AsyncEngine) -> SqlDatabase:
    await empty_tables(sqlite_engine)
    return SqlDatabase(sqlite_engine)


@pytest.fixture(scope="session")
async def mysql_url() -> AsyncIterator[str]:
    """A migrated MySQL (or MariaDB) database of this session's own, on the server of
    ``TEST_MYSQL_URL``; without it, the tests that need one are skipped."""
    async with scratch_mysql_database(require_mysql()) as url:
        await migrated(url)
        yield url


@pytest.fixture(scope="session")
async def mysql_engine(mysql_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(mysql_url, pool_size=5, max_overflow=20)
    yield engine
    await engine.dispose()


@pytest.fixture
async def mysql_database(mysql_engine: AsyncEngine) -> SqlDatabase:
    await empty_tables(mysql_engine)
    return SqlDatabase(mysql_engine)
