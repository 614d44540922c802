"""The ``notes`` command, run in-process through ``main``.

``notes serve`` is run with ``uvicorn.run`` replaced by a stand-in that records how it was
asked to serve and what the environment held at that moment; everything around it (settings,
the embedded PostgreSQL, migrations) is real.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from adapters.embedded_postgres import EmbeddedPostgres
from adapters.sqlalchemy import migrate
from entrypoints.cli import main
from entrypoints.http import create_app

pytestmark = pytest.mark.usefixtures("clean_environment")


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Each call ``notes serve`` made to uvicorn, with the database it would have served."""
    calls: list[dict[str, Any]] = []

    def run(app: str, **options: Any) -> None:
        url = os.environ.get("NOTES_DATABASE_URL")
        revision = migrate.current(url) if url and url != "memory://" else None
        calls.append({"app": app, **options, "database_url": url, "revision": revision})

    monkeypatch.setattr(uvicorn, "run", run)
    return calls


def test_openapi_prints_the_document_the_app_serves(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi"]) == 0
    assert json.loads(capsys.readouterr().out) == create_app().openapi()


def test_serve_defaults_to_the_app_factory_on_localhost_8000(
    monkeypatch: pytest.MonkeyPatch, served: list[dict[str, Any]]
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", "memory://")
    assert main(["serve"]) == 0
    [call] = served
    assert call["app"] == "entrypoints.http:create_app"
    assert call["factory"] is True
    assert (call["host"], call["port"], call["workers"]) == ("127.0.0.1", 8000, 1)
    assert call["database_url"] == "memory://"


def test_serve_options_override_the_settings(
    monkeypatch: pytest.MonkeyPatch, served: list[dict[str, Any]]
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", "memory://")
    monkeypatch.setenv("NOTES_PORT", "9000")
    assert main(["serve", "--host", "192.0.2.10", "--port", "9100", "--workers", "3"]) == 0
    [call] = served
    assert (call["host"], call["port"], call["workers"]) == ("192.0.2.10", 9100, 3)


def test_serve_refuses_reload_with_several_workers(
    served: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--reload", "--workers", "2"]) == 2
    assert "--reload" in capsys.readouterr().err
    assert served == []


def test_serve_with_no_database_starts_and_migrates_the_embedded_one_for_all_workers(
    monkeypatch: pytest.MonkeyPatch, served: list[dict[str, Any]], embedded_data_dir: Path
) -> None:
    monkeypatch.setenv("NOTES_DATA_DIR", str(embedded_data_dir))
    assert main(["serve", "--workers", "2"]) == 0
    [call] = served
    assert call["database_url"].startswith("postgresql+asyncpg://")
    assert call["revision"] == migrate.head()
    assert "NOTES_DATABASE_URL" not in os.environ
    assert not EmbeddedPostgres(embedded_data_dir / "postgres").is_running()


def test_db_upgrade_current_and_downgrade(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", f"sqlite:///{tmp_path / 'notes.sqlite3'}")

    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.startswith("none")
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.strip() == migrate.head()
    assert main(["db", "downgrade", "base"]) == 0
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.startswith("none")


def test_db_commands_refuse_the_memory_backend(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", "memory://")
    assert main(["db", "upgrade"]) == 2
    assert "memory://" in capsys.readouterr().err


def test_bad_settings_are_named_without_echoing_their_values(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", "mysql://notes:hunter2@db/notes")
    assert main(["db", "current"]) == 2
    error = capsys.readouterr().err
    assert "NOTES_DATABASE_URL" in error
    assert "hunter2" not in error
