"""The operational settings, and how ``notes serve`` hands them to uvicorn (which is replaced
by a stand-in that records how it was asked to serve)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from pydantic import ValidationError

from entrypoints.cli import main
from entrypoints.logs import JsonFormatter, TextFormatter
from entrypoints.settings import Settings

METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("NOTES_") or name == METRICS_DIR:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NOTES_DATABASE_URL", "memory://")


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Each call ``notes serve`` made to uvicorn, with the metrics directory it saw."""
    calls: list[dict[str, Any]] = []

    def run(app: str, **options: Any) -> None:
        metrics_dir = os.environ.get(METRICS_DIR)
        seen = (
            {"exists": Path(metrics_dir).is_dir(), "empty": not any(Path(metrics_dir).iterdir())}
            if metrics_dir
            else None
        )
        calls.append({"app": app, **options, "metrics_dir": metrics_dir, "seen": seen})

    monkeypatch.setattr(uvicorn, "run", run)
    return calls


def test_the_operational_defaults() -> None:
    settings = Settings(_env_file=None)
    assert settings.log_format == "text"
    assert settings.max_body_size == 1024 * 1024
    assert settings.cors_origins == []
    assert settings.shutdown_timeout == 30
    assert settings.readiness_timeout == 1


@pytest.mark.parametrize(
    ("written", "origins"),
    [
        ("https://app.example.com", ["https://app.example.com"]),
        (
            "https://a.example, http://localhost:3000",
            ["https://a.example", "http://localhost:3000"],
        ),
        ('["https://a.example"]', ["https://a.example"]),
        ("*", ["*"]),
        ("", []),
    ],
)
def test_cors_origins_are_read_as_a_list(
    monkeypatch: pytest.MonkeyPatch, written: str, origins: list[str]
) -> None:
    monkeypatch.setenv("NOTES_CORS_ORIGINS", written)
    assert Settings(_env_file=None).cors_origins == origins


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NOTES_CORS_ORIGINS", "https://app.example.com/"),
        ("NOTES_CORS_ORIGINS", "app.example.com"),
        ("NOTES_CORS_ORIGINS", "[not json"),
        ("NOTES_LOG_FORMAT", "xml"),
        ("NOTES_MAX_BODY_SIZE", "0"),
        ("NOTES_SHUTDOWN_TIMEOUT", "0"),
        ("NOTES_READINESS_TIMEOUT", "-1"),
    ],
)
def test_a_bad_operational_value_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_serve_sends_no_server_header_and_no_access_log_of_uvicorns(
    served: list[dict[str, Any]],
) -> None:
    assert main(["serve"]) == 0
    [call] = served
    assert call["server_header"] is False
    assert call["access_log"] is False
    assert call["timeout_graceful_shutdown"] == 30


@pytest.mark.parametrize(
    ("log_format", "formatter"), [("text", TextFormatter), ("json", JsonFormatter)]
)
def test_serve_logs_in_the_configured_format(
    monkeypatch: pytest.MonkeyPatch,
    served: list[dict[str, Any]],
    log_format: str,
    formatter: type,
) -> None:
    monkeypatch.setenv("NOTES_LOG_FORMAT", log_format.upper())
    monkeypatch.setenv("NOTES_SHUTDOWN_TIMEOUT", "7.5")
    assert main(["serve"]) == 0
    [call] = served
    config = call["log_config"]
    assert config["formatters"][config["handlers"]["default"]["formatter"]]["()"] is formatter
    assert call["timeout_graceful_shutdown"] == 7.5


def test_several_workers_share_a_fresh_metrics_directory_removed_on_exit(
    served: list[dict[str, Any]],
) -> None:
    assert main(["serve", "--workers", "2"]) == 0
    assert main(["serve", "--workers", "2"]) == 0
    first, second = served
    assert first["seen"] == second["seen"] == {"exists": True, "empty": True}
    assert first["metrics_dir"] != second["metrics_dir"]
    assert not Path(first["metrics_dir"]).exists()
    assert METRICS_DIR not in os.environ


def test_one_worker_keeps_its_metrics_in_memory(served: list[dict[str, Any]]) -> None:
    assert main(["serve"]) == 0
    [call] = served
    assert call["metrics_dir"] is None
