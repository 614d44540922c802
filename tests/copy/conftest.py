"""Fresh, migrated databases of every backend for the copy tests, one per request."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from adapters.memory import MemoryDatabase
from adapters.sqlalchemy import SqlDatabase, create_engine
from application import UnitOfWorkFactory
from entrypoints.settings import UnknownScheme, normalised_database_url
from tests.databases import migrated, scratch_postgres_database

OpenDatabase = Callable[[str], AbstractAsyncContextManager[tuple[str, UnitOfWorkFactory]]]


def mysql_server() -> str | None:
    """The MySQL/MariaDB server of ``TEST_MYSQL_URL``, if set and this build speaks MySQL;
    else ``pytest.skip`` saying which."""
    configured = os.environ.get("TEST_MYSQL_URL")
    if not configured:
        pytest.skip("TEST_MYSQL_URL is not set: the MySQL leg did not run")
    try:
        return normalised_database_url(configured)
    except UnknownScheme:
        pytest.skip("this build has no MySQL backend yet: the MySQL leg did not run")


@asynccontextmanager
async def _scratch_mysql(server: str) -> AsyncIterator[str]:
    name = f"notes_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server)
    try:
        async with admin.begin() as connection:
            await connection.execute(sa.text(f"CREATE DATABASE {name}"))
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.begin() as connection:
            await connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        await admin.dispose()


@pytest.fixture
def open_database(postgres_server_url: URL, tmp_path: Path) -> OpenDatabase:
    """``open_database(kind)``: a new, migrated database of that backend (``memory``,
    ``sqlite``, ``postgres`` or ``mysql``), as its URL and a unit-of-work factory."""

    @asynccontextmanager
    async def opened(kind: str) -> AsyncIterator[tuple[str, UnitOfWorkFactory]]:
        if kind == "memory":
            yield "memory://", MemoryDatabase().unit_of_work
            return
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / uuid.uuid4().hex}.sqlite3"
            async with _served(url) as factory:
                yield url, factory
            return
        scratch = (
            scratch_postgres_database(postgres_server_url)
            if kind == "postgres"
            else _scratch_mysql(mysql_server() or "")
        )
        async with scratch as url, _served(url) as factory:
            yield url, factory

    return opened


@asynccontextmanager
async def _served(url: str) -> AsyncIterator[UnitOfWorkFactory]:
    await migrated(url)
    engine = create_engine(url, pool_size=3)
    try:
        yield SqlDatabase(engine).unit_of_work
    finally:
        await engine.dispose()
