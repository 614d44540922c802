"""The security tests: each attack of issue #15, as it was made, against the fix.

The API fixtures (an app over every backend, signed in or not) are the API suite's. On
PostgreSQL these tests work in a database of their own, so that what the earlier suites
left on the shared test database (connections, locks) cannot stall them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy import SqlDatabase, create_engine
from tests.api.conftest import anonymous, client, shared_app, uow_factory
from tests.databases import empty_tables, migrated, scratch_postgres_database

__all__ = ["anonymous", "client", "shared_app", "uow_factory"]


@pytest.fixture(scope="session")
async def postgres_url(postgres_server_url: URL) -> AsyncIterator[str]:
    async with scratch_postgres_database(postgres_server_url) as url:
        await migrated(url)
        yield url


@pytest.fixture(scope="session")
async def postgres_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    # Bursts of 60 requests share it on a busy machine: waiting for a connection is
    # expected here, and a 503 after the service's default 2 s would test the machine.
    engine = create_engine(
        postgres_url, pool_size=5, max_overflow=20, pool_timeout=30, connect_timeout=10
    )
    yield engine
    await engine.dispose()


@pytest.fixture
async def postgres_database(postgres_engine: AsyncEngine) -> SqlDatabase:
    await empty_tables(postgres_engine)
    return SqlDatabase(postgres_engine)
