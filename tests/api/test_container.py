"""The composition root picks the database from the settings alone, and builds nothing early.

These tests go through the container's own providers (no override): the configured URL is
what decides where notes live, and the app's lifespan opens and closes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import URL

from adapters.embedded_postgres import EmbeddedPostgres
from adapters.sqlalchemy import migrate
from entrypoints.http import create_app
from tests.api.client import app_over, serving, sign_in
from tests.databases import scratch_postgres_database


async def _create_then_list(url: str | None, **settings: Any) -> list[str]:
    """Create a note in one run of the service, then list titles in a fresh run."""
    async with serving(app_over(database_url=url, **settings)) as client:
        await sign_in(client)
        created = await client.post("/notes/", json={"title": "Survives a restart"})
        assert created.status_code == 201
    async with serving(app_over(database_url=url, **settings)) as client:
        await sign_in(client)
        return [note["title"] for note in (await client.get("/notes/")).json()]


async def test_building_the_app_reads_no_settings_and_opens_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", "oracle://nobody@nowhere/notes")
    app = create_app()
    assert app.openapi()["paths"]
    with pytest.raises(ValidationError):
        async with app.router.lifespan_context(app):
            pass


async def test_the_memory_url_keeps_notes_for_the_life_of_the_process_only() -> None:
    app = app_over(database_url="memory://")
    async with serving(app) as client:
        await sign_in(client)
        await client.post("/notes/", json={"title": "Ephemeral"})
        assert len((await client.get("/notes/")).json()) == 1
    assert await _create_then_list("memory://") == []


@pytest.fixture(params=["sqlite", "postgres"])
async def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty, migrated database of the service's own, named by URL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'notes.sqlite3'}"
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
        return
    server: URL = request.getfixturevalue("postgres_server_url")
    async with scratch_postgres_database(server) as url:
        await asyncio.to_thread(migrate.upgrade, url)
        yield url


async def test_a_sql_url_keeps_notes_across_restarts(migrated_url: str) -> None:
    assert await _create_then_list(migrated_url) == ["Survives a restart"]


async def test_with_no_url_the_embedded_postgres_is_started_migrated_and_stopped(
    embedded_data_dir: Path,
) -> None:
    assert await _create_then_list(None, data_dir=embedded_data_dir) == ["Survives a restart"]
    assert not EmbeddedPostgres(embedded_data_dir / "postgres").is_running()
