"""The ``notes`` command, run in-process through ``main``.

``notes serve`` is run with ``uvicorn.run`` replaced by a stand-in that records how it was
asked to serve and what the environment held at that moment; everything around it (settings,
the embedded PostgreSQL, migrations) is real.
"""

from __future__ import annotations

import json
import os
import socket
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from adapters.embedded_postgres import EmbeddedPostgres
from adapters.sqlalchemy import migrate
from entrypoints.cli import main
from entrypoints.http import create_app
from tests.api.client import SECRET_KEY
from tests.e2e.server import free_port

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
    port = free_port()
    assert main(["serve", "--host", "127.0.0.2", "--port", str(port), "--workers", "3"]) == 0
    [call] = served
    assert (call["host"], call["port"], call["workers"]) == ("127.0.0.2", port, 3)


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
    assert capsys.readouterr().out.strip().endswith(f"at revision {migrate.head()} (head)")
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.strip() == migrate.head()
    assert main(["db", "downgrade", "base"]) == 0
    assert capsys.readouterr().out.strip().endswith("at revision base")
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
    monkeypatch.setenv("NOTES_DATABASE_URL", "oracle://notes:hunter2@db/notes")
    assert main(["db", "current"]) == 2
    error = capsys.readouterr().err
    assert "NOTES_DATABASE_URL" in error
    assert "hunter2" not in error


def test_version_names_the_installed_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"notes {version('notes-service')}"


@pytest.mark.parametrize("port", ["0", "70000", "-1", "http"])
def test_a_port_outside_1_to_65535_is_refused_before_anything_starts(
    port: str, served: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", port])
    assert exited.value.code == 2
    assert "--port" in capsys.readouterr().err
    assert served == []


def test_a_port_in_use_is_one_line_before_the_embedded_database_starts(
    monkeypatch: pytest.MonkeyPatch,
    served: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("NOTES_DATA_DIR", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"port {port} on 127.0.0.1 is in use" in error
    assert "NOTES_PORT" in error
    assert served == []
    assert not (tmp_path / "postgres").exists(), "the embedded database was not started"


def test_serve_says_in_one_line_where_it_serves_and_on_which_database(
    monkeypatch: pytest.MonkeyPatch,
    served: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", f"sqlite:///{tmp_path / 'notes.sqlite3'}")
    monkeypatch.setenv("NOTES_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NOTES_SECRET_KEY", SECRET_KEY)
    port = free_port()
    assert main(["serve", "--migrate", "--port", str(port)]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert f"http://127.0.0.1:{port}/docs" in line
    assert f"sqlite+aiosqlite:///{tmp_path / 'notes.sqlite3'}" in line
    assert str(tmp_path / "data") in line


def test_an_unreachable_database_is_one_line_without_its_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("NOTES_DATABASE_URL", f"postgresql://notes:hunter2@127.0.0.1:{port}/n")
    monkeypatch.setenv("NOTES_SECRET_KEY", SECRET_KEY)
    for command in (["db", "upgrade"], ["db", "current"], ["serve", "--port", str(free_port())]):
        assert main(command) == 1
        error = capsys.readouterr().err
        assert error.count("\n") == 1, error
        assert (
            f"cannot reach the database at postgresql+asyncpg://notes:***@127.0.0.1:{port}/n"
            in error
        )
        assert "hunter2" not in error


def test_a_sqlite_path_in_a_missing_folder_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'n.sqlite3'}")
    assert main(["db", "upgrade"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"{tmp_path / 'missing'} does not exist" in error
    assert not (tmp_path / "missing").exists()


def test_an_unknown_revision_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", f"sqlite:///{tmp_path / 'notes.sqlite3'}")
    assert main(["db", "upgrade", "nosuchrevision"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "nosuchrevision" in error
    assert migrate.head() in error


def test_an_unknown_url_scheme_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", "oracle://db/notes")
    assert main(["db", "current"]) == 2
    error = capsys.readouterr().err
    assert "scheme 'oracle'" in error
    assert "{" not in error
