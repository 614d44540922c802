"""Revision 0005 keys every per-user table by its owner and keeps what it should: notes and
failed logins survive it both ways, refresh tokens issued before it are gone (they cannot
be presented any more). Revisions each commit on their own, and 0002's backfill still
computes every note's search tokens."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sqlalchemy.migrate import current, downgrade, upgrade
from adapters.sqlalchemy.urls import database_url
from domain.search import encode, tokens
from tests.databases import require_mysql, scratch_mysql_database, scratch_postgres_database

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ALICE, BOB = uuid.uuid4(), uuid.uuid4()


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'owner-keys.sqlite3'}"
        return
    if request.param == "mysql":
        async with scratch_mysql_database(require_mysql()) as url:
            yield url
        return
    server: URL = request.getfixturevalue("postgres_server_url")
    async with scratch_postgres_database(server) as url:
        yield url


async def _on(url: str, work: Callable[[sa.Connection], Any]) -> Any:
    engine = create_async_engine(database_url(url), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


_users = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("username", sa.String()),
    sa.column("username_key", sa.String()),
    sa.column("password_hash", sa.String()),
    sa.column("created_date", sa.DateTime(timezone=True)),
)
_notes = sa.table(
    "notes",
    sa.column("id", sa.Uuid()),
    sa.column("owner_id", sa.Uuid()),
    sa.column("title", sa.String()),
    sa.column("description", sa.String()),
    sa.column("tags", sa.JSON()),
    sa.column("created_date", sa.DateTime(timezone=True)),
    sa.column("updated_date", sa.DateTime(timezone=True)),
    sa.column("version", sa.Integer()),
)
_failures = sa.table(
    "login_failures",
    sa.column("username_key", sa.String()),
    sa.column("failed_at", sa.DateTime(timezone=True)),
)
_tokens = sa.table(
    "refresh_tokens",
    sa.column("id", sa.Uuid()),
    sa.column("user_id", sa.Uuid()),
    sa.column("family_id", sa.Uuid()),
    sa.column("token_hash", sa.String()),
    sa.column("issued_at", sa.DateTime(timezone=True)),
    sa.column("expires_at", sa.DateTime(timezone=True)),
)


def _seed(connection: sa.Connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    for user, name in ((ALICE, "alice"), (BOB, "bob")):
        connection.execute(
            _users.insert().values(
                id=user, username=name, username_key=name, password_hash="x", created_date=AT
            )
        )
        for n in range(3):
            values = {
                "id": uuid.uuid4(),
                "owner_id": user,
                "title": f"{name} note {n}",
                "description": "milk and eggs",
                "created_date": AT,
                "updated_date": AT,
                "version": 1,
            }
            tags = sa.literal(["home"], sa.ARRAY(sa.Text())) if postgres else '["home"]'
            connection.execute(_notes.insert().values(**values, tags=tags))
        connection.execute(
            _tokens.insert().values(
                id=uuid.uuid4(),
                user_id=user,
                family_id=uuid.uuid4(),
                token_hash=uuid.uuid4().hex * 2,
                issued_at=AT,
                expires_at=AT + timedelta(days=30),
            )
        )
    for key, minutes in (("alice", 0), ("alice", 1), ("alice", 1), ("mallory", 2)):
        connection.execute(
            _failures.insert().values(username_key=key, failed_at=AT + timedelta(minutes=minutes))
        )


def _state(connection: sa.Connection) -> dict[str, Any]:
    notes = connection.execute(sa.text("SELECT owner_id, title FROM notes ORDER BY title")).all()
    failures = connection.execute(
        sa.text(
            "SELECT username_key, failed_at FROM login_failures ORDER BY username_key, failed_at"
        )
    ).all()
    return {
        "notes": [(str(owner).replace("-", ""), title) for owner, title in notes],
        "failures": [(key, str(at)) for key, at in failures],
        "tokens": connection.execute(sa.text("SELECT count(*) FROM refresh_tokens")).scalar_one(),
    }


async def test_0005_keeps_notes_and_failed_logins_both_ways_and_drops_old_tokens(
    empty_url: str,
) -> None:
    await asyncio.to_thread(upgrade, empty_url, "0003")
    await _on(empty_url, _seed)
    before = await _on(empty_url, _state)
    assert before["tokens"] == 2
    assert len(before["failures"]) == 4

    await asyncio.to_thread(upgrade, empty_url, "0005")
    after = await _on(empty_url, _state)
    assert after == {**before, "tokens": 0}
    ids = await _on(
        empty_url, lambda c: c.execute(sa.text("SELECT id FROM login_failures")).scalars().all()
    )
    assert len({str(i) for i in ids}) == 4

    await asyncio.to_thread(downgrade, empty_url, "0003")
    assert await _on(empty_url, _state) == after


async def test_0002_computes_the_search_tokens_of_every_note_of_every_owner(
    empty_url: str,
) -> None:
    await asyncio.to_thread(upgrade, empty_url, "0001")
    await _on(empty_url, _seed)
    await asyncio.to_thread(upgrade, empty_url, "0002")
    rows = await _on(
        empty_url,
        lambda c: c.execute(sa.text("SELECT title, search_title, search_body FROM notes")).all(),
    )
    assert len(rows) == 6
    for title, search_title, search_body in rows:
        assert search_title == " ".join(encode(t) for t in tokens(title))
        assert search_body == " ".join(encode(t) for t in tokens("milk and eggs"))


async def test_a_failing_revision_leaves_the_ones_before_it_applied(empty_url: str) -> None:
    """Each revision is a transaction of its own (on a distributed database, DDL on one
    table after DDL on another in one transaction is refused)."""
    # A table in the way of revision 0003.
    await _on(empty_url, lambda c: c.execute(sa.text("CREATE TABLE idempotency_keys (x int)")))
    with pytest.raises(sa.exc.DatabaseError):
        await asyncio.to_thread(upgrade, empty_url)
    assert await asyncio.to_thread(current, empty_url) == "0002"
