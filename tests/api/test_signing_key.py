"""Where the key that signs access tokens comes from, and when the service refuses to start."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from entrypoints.signing_key import WeakSecret, signing_key
from tests.api.client import make_settings

STRONG = "k3Y-7f9Qz1LmN0pR4sT8vW2xY6bC5dE0gH"


def test_a_configured_strong_key_is_used() -> None:
    assert signing_key(make_settings(secret_key=STRONG, database_url="sqlite:///x.db")) == STRONG


@pytest.mark.parametrize(
    "weak",
    ["changeme", "secret", "short-but-random-9f8e", "a" * 40, "please-changeme-" + "x" * 30],
)
def test_a_weak_or_placeholder_key_is_refused(weak: str) -> None:
    with pytest.raises(WeakSecret):
        signing_key(make_settings(secret_key=weak, database_url="sqlite:///x.db"))


def test_an_explicit_database_without_a_key_is_refused_with_what_to_do() -> None:
    with pytest.raises(WeakSecret, match="NOTES_SECRET_KEY is not set"):
        signing_key(make_settings(secret_key=None, database_url="postgresql://db/notes"))


def test_the_embedded_default_generates_one_key_and_keeps_it(tmp_path: Path) -> None:
    settings = make_settings(secret_key=None, database_url=None, data_dir=tmp_path)
    first = signing_key(settings)
    assert signing_key(settings) == first
    assert len(first) >= 32
    kept = tmp_path / "secret_key"
    assert kept.read_text().strip() == first
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_memory_without_a_key_gets_a_random_one_per_process() -> None:
    settings = make_settings(secret_key=None)
    assert signing_key(settings) != signing_key(settings)


def test_notes_serve_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    notes = str(Path(sys.executable).with_name("notes"))
    env = {"NOTES_DATABASE_URL": f"sqlite:///{tmp_path / 'n.db'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [notes, "serve", "--port", "8000"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "NOTES_SECRET_KEY is not set" in done.stderr
