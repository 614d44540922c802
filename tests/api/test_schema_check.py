"""The schema check: ``notes serve`` will not serve a database whose schema is behind the
migrations (``--migrate`` brings it up first), and ``/readyz`` says when it is behind."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from sqlalchemy.engine import URL

from adapters.sqlalchemy import migrate
from entrypoints.cli import main
from tests.api.client import SECRET_KEY, app_over, assert_problem, serving
from tests.databases import scratch_database_blocking, scratch_postgres_database

pytestmark = pytest.mark.usefixtures("clean_environment")


@pytest.fixture
def empty_database(postgres_server_url: URL) -> Iterator[str]:
    with scratch_database_blocking(postgres_server_url) as url:
        yield url


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The revision of the database each ``notes serve`` would have served."""
    calls: list[str | None] = []

    def run(_app: str, **_options: Any) -> None:
        calls.append(migrate.current(os.environ["NOTES_DATABASE_URL"]))

    monkeypatch.setattr(uvicorn, "run", run)
    return calls


def test_serve_refuses_an_empty_database_in_one_line_saying_to_upgrade(
    monkeypatch: pytest.MonkeyPatch,
    empty_database: str,
    served: list[str | None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", empty_database)
    monkeypatch.setenv("NOTES_SECRET_KEY", SECRET_KEY)
    assert main(["serve"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "notes db upgrade" in line
    assert served == []
    assert migrate.current(empty_database) is None


def test_serve_migrate_brings_the_schema_to_head_then_serves(
    monkeypatch: pytest.MonkeyPatch, empty_database: str, served: list[str | None]
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", empty_database)
    monkeypatch.setenv("NOTES_SECRET_KEY", SECRET_KEY)
    assert main(["serve", "--migrate"]) == 0
    assert served == [migrate.head()]
    assert main(["serve"]) == 0
    assert served == [migrate.head(), migrate.head()]


async def test_readyz_is_503_saying_why_while_the_schema_is_behind(
    postgres_server_url: URL,
) -> None:
    async with scratch_postgres_database(postgres_server_url) as url:
        # The migrations run an event loop of their own: in a thread.
        await asyncio.to_thread(migrate.upgrade, url)
        await asyncio.to_thread(migrate.downgrade, url, "-1")
        async with serving(app_over(database_url=url)) as client:
            behind = await client.get("/readyz")
        problem = assert_problem(behind, 503)
        assert problem["type"].endswith("schema-outdated")
        assert "notes db upgrade" in problem["detail"]
        await asyncio.to_thread(migrate.upgrade, url)
        async with serving(app_over(database_url=url)) as client:
            assert (await client.get("/readyz")).status_code == 200
