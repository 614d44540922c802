"""Configuration: ``NOTES_*`` variables and ``.env``, as an operator writes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from entrypoints.settings import Settings

pytestmark = pytest.mark.usefixtures("clean_environment")


def test_with_nothing_configured_the_service_uses_the_embedded_database_on_localhost_8000(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    settings = Settings()
    assert settings.database_url is None
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.data_dir == tmp_path / "home" / ".local" / "share" / "notes-service"
    assert (settings.pool_size, settings.max_overflow) == (20, 0)
    assert settings.log_level == "info"


def test_the_data_directory_follows_xdg_data_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Settings().data_dir == tmp_path / "xdg" / "notes-service"


def test_every_setting_is_read_from_its_notes_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    values = {
        "NOTES_DATABASE_URL": "postgresql+asyncpg://notes:secret@db:5432/notes",
        "NOTES_DATA_DIR": str(tmp_path / "data"),
        "NOTES_POOL_SIZE": "5",
        "NOTES_MAX_OVERFLOW": "0",
        "NOTES_POOL_TIMEOUT": "0.5",
        "NOTES_POOL_RECYCLE": "60",
        "NOTES_CONNECT_TIMEOUT": "1.5",
        "NOTES_LOG_LEVEL": "DEBUG",
        "NOTES_HOST": "192.0.2.10",
        "NOTES_PORT": "9000",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://notes:secret@db:5432/notes"
    assert settings.data_dir == tmp_path / "data"
    assert (settings.pool_size, settings.max_overflow) == (5, 0)
    assert (settings.pool_timeout, settings.pool_recycle, settings.connect_timeout) == (
        0.5,
        60,
        1.5,
    )
    assert settings.log_level == "debug"
    assert (settings.host, settings.port) == ("192.0.2.10", 9000)


def test_a_dotenv_file_is_read_and_the_environment_wins_over_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("NOTES_DATABASE_URL=memory://\nNOTES_PORT=8100\n")
    assert (Settings().database_url, Settings().port) == ("memory://", 8100)
    monkeypatch.setenv("NOTES_PORT", "8200")
    assert Settings().port == 8200


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("memory://", "memory://"),
        ("sqlite+aiosqlite:///var/lib/notes.sqlite3", "sqlite+aiosqlite:///var/lib/notes.sqlite3"),
        ("sqlite:///notes.sqlite3", "sqlite+aiosqlite:///notes.sqlite3"),
        ("postgresql://u:p@db/notes", "postgresql+asyncpg://u:p@db/notes"),
        ("postgres://u:p@db/notes", "postgresql+asyncpg://u:p@db/notes"),
        ("mysql://u:p@db/notes", "mysql+asyncmy://u:p@db/notes"),
        ("mariadb://u:p@db/notes", "mysql+asyncmy://u:p@db/notes"),
        ("", None),
        ("  ", None),
    ],
)
def test_a_database_url_gets_the_async_driver_and_empty_means_embedded(
    monkeypatch: pytest.MonkeyPatch, written: str, used: str | None
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", written)
    assert Settings().database_url == used


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NOTES_DATABASE_URL", "oracle://u:p@db/notes"),
        ("NOTES_DATABASE_URL", "just-a-path.sqlite3"),
        ("NOTES_PORT", "http"),
        ("NOTES_PORT", "70000"),
        ("NOTES_POOL_SIZE", "0"),
        ("NOTES_POOL_TIMEOUT", "-1"),
        ("NOTES_LOG_LEVEL", "loud"),
    ],
)
def test_a_bad_value_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()
