"""``notes db copy`` as an operator runs it: a summary, a refusal of a target with data,
``--force``, a process killed half-way and run again, a difference found by
``--verify-only``, and one-line errors."""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from adapters.sqlalchemy import SqlDatabase, create_engine
from adapters.sqlalchemy.tables import notes, users
from entrypoints.cli import main
from tests.copy.dataset import Snapshot, fill, snapshot
from tests.databases import migrated, scratch_database_blocking
from tests.e2e.server import free_port


def _filled_sqlite(path: Path, notes_per_user: int = 7) -> str:
    url = f"sqlite:///{path}"

    async def run() -> None:
        await migrated(url)
        engine = create_engine(url)
        try:
            await fill(SqlDatabase(engine).unit_of_work, notes_per_user=notes_per_user)
        finally:
            await engine.dispose()

    asyncio.run(run())
    return url


def _snapshot(url: str) -> Snapshot:
    async def run() -> Snapshot:
        engine = create_engine(url)
        try:
            return await snapshot(SqlDatabase(engine).unit_of_work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _execute(url: str, statement: sa.Executable) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(statement)
                return result.scalar_one() if result.returns_rows else result.rowcount
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def target(postgres_server_url: URL) -> Iterator[str]:
    with scratch_database_blocking(postgres_server_url) as url:
        yield url


def test_a_copy_prints_a_summary_and_is_verified(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _filled_sqlite(tmp_path / "source.sqlite3")
    assert main(["db", "copy", source, target, "--batch-size", "3"]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # not a terminal: no progress
    lines = out.splitlines()
    assert lines[0].startswith("notes db copy: copied sqlite+aiosqlite:///")
    table_lines = {line.split()[0]: line for line in lines[1:-1]}
    assert set(table_lines) == {
        "users",
        "notes",
        "note_revisions",
        "trashed_notes",
        "refresh_tokens",
        "idempotency_keys",
        "personal_tokens",
        "note_events",
        "note_event_heads",
        "webhooks",
        "webhook_deliveries",
        "note_shares",
        "shared_notes",
        "note_links",
    }
    assert all("verified" in line for line in table_lines.values())
    assert "notes/s" in lines[-1]
    assert _snapshot(target) == _snapshot(source)


def test_a_target_with_data_is_refused_unless_forced(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _filled_sqlite(tmp_path / "source.sqlite3")
    other = _filled_sqlite(tmp_path / "other.sqlite3", notes_per_user=2)
    assert main(["db", "copy", other, target]) == 0
    capsys.readouterr()
    before = _snapshot(target)

    assert main(["db", "copy", source, target]) == 1
    _, err = capsys.readouterr()
    assert err.count("\n") == 1
    assert "holds data; run with --force" in err
    assert _snapshot(target) == before  # nothing changed

    assert main(["db", "copy", source, target, "--force"]) == 0
    assert _snapshot(target) == _snapshot(source)


def test_a_copy_killed_half_way_is_completed_by_a_forced_run(tmp_path: Path, target: str) -> None:
    source = _filled_sqlite(tmp_path / "source.sqlite3", notes_per_user=600)
    command = [sys.executable, "-m", "entrypoints.cli", "db", "copy", source, target]
    copying = subprocess.Popen([*command, "--batch-size", "5"], env={**os.environ})
    try:
        while _count_or_none(target, notes) in (None, 0):
            assert copying.poll() is None, "the copy ended before it could be interrupted"
            time.sleep(0.05)
        copying.send_signal(signal.SIGKILL)
        assert copying.wait(timeout=30) == -signal.SIGKILL
    finally:
        if copying.poll() is None:
            copying.kill()
    assert _execute(target, sa.select(sa.func.count()).select_from(notes)) < 1200

    verified = subprocess.run([*command, "--verify-only"], capture_output=True, text=True)
    assert verified.returncode == 1
    assert "differs from the source in" in verified.stderr

    refused = subprocess.run(command, capture_output=True, text=True)
    assert refused.returncode == 1
    assert "holds data" in refused.stderr

    forced = subprocess.run([*command, "--force"], capture_output=True, text=True)
    assert forced.returncode == 0, forced.stderr
    assert "DIFFERS" not in forced.stdout
    assert _snapshot(target) == _snapshot(source)


def _count_or_none(url: str, table: sa.Table) -> int | None:
    """How many rows ``table`` holds; ``None`` while it does not exist yet (the copy
    migrates the target first)."""
    try:
        return _execute(url, sa.select(sa.func.count()).select_from(table))
    except sa.exc.ProgrammingError:
        return None


def test_verify_only_finds_a_row_changed_after_the_copy(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _filled_sqlite(tmp_path / "source.sqlite3")
    assert main(["db", "copy", source, target]) == 0
    assert main(["db", "copy", source, target, "--verify-only"]) == 0
    capsys.readouterr()
    one = _execute(target, sa.select(users.c.id).order_by(users.c.id).limit(1))
    changed = users.update().where(users.c.id == one).values(password_hash="tampered")
    assert _execute(target, changed) == 1

    assert main(["db", "copy", source, target, "--verify-only"]) == 1
    out, err = capsys.readouterr()
    assert "notes db copy: compared" in out
    assert [line.split()[0] for line in out.splitlines() if "DIFFERS" in line] == ["users"]
    assert err == "notes db copy: the target differs from the source in users\n"


def test_errors_are_one_line_without_a_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _filled_sqlite(tmp_path / "source.sqlite3")
    nowhere = f"postgresql://notes:hunter2@127.0.0.1:{free_port()}/n"
    cases = {
        "TARGET_URL must be memory://": [source, "mongodb://db/notes"],
        "cannot reach the database at postgresql+asyncpg://notes:***@127.0.0.1": [
            source,
            nowhere,
        ],
        "the source and the target are the same database": [source, source],
        "does not exist": [source, f"sqlite:///{tmp_path / 'missing' / 'n.sqlite3'}"],
    }
    for expected, urls in cases.items():
        assert main(["db", "copy", *urls]) in (1, 2)
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert err.startswith("notes db copy: ")
        assert expected in err
        assert "hunter2" not in err
        assert "Traceback" not in err


def test_a_source_behind_the_schema_is_refused_without_changing_it(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from adapters.sqlalchemy import migrate

    old = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(old, "0003")
    assert main(["db", "copy", old, target]) == 1
    err = capsys.readouterr().err
    assert "the source database's schema is at 0003, behind" in err
    assert migrate.current(old) == "0003"


def test_progress_is_drawn_on_a_terminal_only(tmp_path: Path) -> None:
    source = _filled_sqlite(tmp_path / "source.sqlite3")
    command = [sys.executable, "-m", "entrypoints.cli", "db", "copy", source, "memory://"]
    leader, follower = pty.openpty()
    drawn = bytearray()

    def read_terminal() -> None:
        # Until the copy's end of the terminal is closed: read as it draws, so it never
        # waits on a full terminal buffer.
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                return
            if not chunk:
                return
            drawn.extend(chunk)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    try:
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, text=True) as copy:
            os.close(follower)
            stdout, _ = copy.communicate(timeout=300)
        reader.join(timeout=30)
    finally:
        os.close(leader)
    assert copy.returncode == 0
    assert b"note_revisions" in drawn
    assert b"verifying" in drawn
    assert "verified" in stdout
