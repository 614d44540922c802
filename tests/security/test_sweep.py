"""The bookkeeping tables stay bounded: a sweep forgets failed logins older than the login
window, refresh tokens expired for more than a day, and expired idempotency keys, on every
backend, and keeps everything younger; ``notes db sweep`` runs it from cron."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from adapters.memory import MemoryDatabase
from adapters.sqlalchemy.migrate import upgrade
from adapters.system import Uuid7Factory
from application import UnitOfWorkFactory
from application.idempotency import IdempotencyRecord
from application.retention import Sweep, Swept
from domain.sessions import RefreshToken
from tests.api.client import app_over, serving
from tests.support import ALICE, START, ManualClock, register_owners

WINDOW = timedelta(minutes=15)
_ids = Uuid7Factory()


def _token(expires_in: timedelta) -> RefreshToken:
    return RefreshToken(
        id=_ids.new_id(),
        user_id=ALICE,
        family_id=_ids.new_id(),
        token_hash=uuid4().hex * 2,
        issued_at=START - timedelta(days=40),
        expires_at=START + expires_in,
    )


def _key(name: str, expires_in: timedelta) -> IdempotencyRecord:
    return IdempotencyRecord(
        owner_id=ALICE,
        key=name,
        fingerprint="f" * 64,
        result="[]",
        created_at=START - timedelta(days=1),
        expires_at=START + expires_in,
    )


async def test_a_sweep_forgets_what_has_outlived_its_use_and_keeps_the_rest(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await register_owners(uow_factory)
    old, recent = START - WINDOW - timedelta(seconds=1), START - timedelta(minutes=1)
    async with uow_factory() as uow:
        for key in ("alice", "bob", "ghost"):
            await uow.login_failures.record(key, old, keep_since=old)
        await uow.login_failures.record("alice", recent, keep_since=old)
        for expires_in in (-timedelta(days=2), -timedelta(hours=1), timedelta(days=1)):
            await uow.refresh_tokens.add(_token(expires_in))
        await uow.idempotency_keys.claim(_key("expired", -timedelta(seconds=1)))
        await uow.idempotency_keys.claim(_key("fresh", timedelta(hours=1)))
        await uow.commit()

    swept = await Sweep(uow_factory, ManualClock(START), failure_window=WINDOW)()

    assert swept == Swept(login_failures=3, refresh_tokens=1, idempotency_keys=1)
    async with uow_factory() as uow:
        assert await uow.login_failures.since("alice", START - timedelta(days=1)) == [recent]
        assert await uow.login_failures.since("ghost", START - timedelta(days=1)) == []
        fresh = _key("fresh", timedelta(hours=1))
        assert await uow.idempotency_keys.claim(_key("expired", timedelta(hours=1))) is None
        assert await uow.idempotency_keys.claim(fresh) == fresh
    again = await Sweep(uow_factory, ManualClock(START), failure_window=WINDOW)()
    assert again == Swept(login_failures=0, refresh_tokens=0, idempotency_keys=0)


def test_notes_db_sweep_runs_the_sweep_for_cron(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'notes.sqlite3'}"
    upgrade(url)
    notes = str(Path(sys.executable).with_name("notes"))
    env = {"NOTES_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [notes, "db", "sweep"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "swept 0 failed logins, 0 refresh tokens, 0 idempotency keys, 0 trashed notes, "
        "0 note events, 0 personal access tokens"
    )


async def test_the_service_sweeps_on_its_own_schedule() -> None:
    database = MemoryDatabase()
    async with database.unit_of_work() as uow:
        await uow.login_failures.record("ghost", START, keep_since=START)
        await uow.commit()
    app = app_over(database.unit_of_work, sweep_interval=0.05)
    async with serving(app):
        for _ in range(200):
            async with database.unit_of_work() as uow:
                if not await uow.login_failures.since("ghost", START):
                    break
            await asyncio.sleep(0.05)
    async with database.unit_of_work() as uow:
        assert await uow.login_failures.since("ghost", START) == []
