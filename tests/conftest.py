"""Database fixtures shared by every suite; see ``tests.databases``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory import MemoryDatabase
from adapters.sqlalchemy import SqlDatabase, create_engine
from tests.databases import empty_tables, migrated, postgres_server, scratch_postgres_database
from tests.owner_rule import SERVICE_STATEMENTS, violations

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
