"""The migrations are the schema's source of truth: they must build exactly what the adapter
declares, on every database, and every revision must undo and redo cleanly."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sqlalchemy import metadata
from adapters.sqlalchemy.migrate import alembic_config, current, downgrade, head, upgrade
from adapters.sqlalchemy.tables import comparison_filter
from adapters.sqlalchemy.urls import database_url
from tests.databases import require_mysql, scratch_mysql_database, scratch_postgres_database


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    if request.param == "mysql":
        async with scratch_mysql_database(require_mysql()) as url:
            yield url
        return
    server: URL = request.getfixturevalue("postgres_server_url")
    async with scratch_postgres_database(server) as url:
        yield url


async def _inspect(url: str, check: object) -> object:
    engine = create_async_engine(database_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(check)  # type: ignore[arg-type]
    finally:
        await engine.dispose()


def _differences(connection: sa.Connection) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "include_object": comparison_filter(connection.dialect.name)},
    )
    return list(compare_metadata(context, metadata))


def _tables(connection: sa.Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


async def test_upgrade_head_builds_exactly_the_declared_schema(empty_url: str) -> None:
    await asyncio.to_thread(upgrade, empty_url)
    assert await _inspect(empty_url, _differences) == []
    assert await asyncio.to_thread(current, empty_url) == head()


async def test_every_revision_downgrades_and_upgrades_again(empty_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(empty_url))
    revisions = list(reversed(list(script.walk_revisions())))
    assert revisions, "there are no revisions"
    for revision in revisions:
        await asyncio.to_thread(upgrade, empty_url, revision.revision)
        await asyncio.to_thread(downgrade, empty_url, revision.down_revision or "base")
        await asyncio.to_thread(upgrade, empty_url, revision.revision)
    assert await _inspect(empty_url, _differences) == []
    await asyncio.to_thread(downgrade, empty_url, "base")
    assert await _inspect(empty_url, _tables) == {"alembic_version"}
    assert await asyncio.to_thread(current, empty_url) is None


async def test_a_new_database_is_at_no_revision(empty_url: str) -> None:
    assert await asyncio.to_thread(current, empty_url) is None


def test_plain_alembic_migrates_the_database_of_the_services_settings(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    alembic = str(Path(sys.executable).with_name("alembic"))
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "NOTES_DATABASE_URL": url}
    done = subprocess.run(
        [alembic, "upgrade", "head"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert current(url) == head()
