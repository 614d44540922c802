"""Revision 0006 gives every existing note its current version as its first revision, and
loses no note either way."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from adapters.sqlalchemy.migrate import downgrade, upgrade
from tests.migrations.test_owner_keys import ALICE, AT, BOB, _on, _users, empty_url
from tests.migrations.test_owner_keys import _notes as notes

__all__ = ["empty_url"]


def _seed(connection: sa.Connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    for user, name in ((ALICE, "alice"), (BOB, "bob")):
        connection.execute(
            _users.insert().values(
                id=user, username=name, username_key=name, password_hash="x", created_date=AT
            )
        )
        for n in range(3):
            tags = sa.literal(["home"], sa.ARRAY(sa.Text())) if postgres else '["home"]'
            connection.execute(
                notes.insert().values(
                    id=uuid.uuid4(),
                    owner_id=user,
                    title=f"{name} note {n}",
                    description=f"body {n}",
                    created_date=AT,
                    updated_date=AT + timedelta(minutes=n),
                    version=n + 1,
                    tags=tags,
                )
            )


def _notes(connection: sa.Connection) -> list[tuple[Any, ...]]:
    return list(
        connection.execute(
            sa.text(
                "SELECT owner_id, id, version, title, description, updated_date FROM notes "
                "ORDER BY owner_id, id"
            )
        ).all()
    )


def _revisions(connection: sa.Connection) -> list[tuple[Any, ...]]:
    return list(
        connection.execute(
            sa.text(
                "SELECT owner_id, note_id, version, title, description, updated_date "
                "FROM note_revisions ORDER BY owner_id, note_id"
            )
        ).all()
    )


async def test_0006_gives_every_note_its_first_revision_and_keeps_the_notes(
    empty_url: str,
) -> None:
    await asyncio.to_thread(upgrade, empty_url, "0005")
    await _on(empty_url, _seed)
    before = await _on(empty_url, _notes)
    assert len(before) == 6

    await asyncio.to_thread(upgrade, empty_url, "0006")
    assert await _on(empty_url, _notes) == before
    assert await _on(empty_url, _revisions) == before
    copied = await _on(
        empty_url,
        lambda c: c.execute(
            sa.text(
                "SELECT n.tags, r.tags FROM notes AS n JOIN note_revisions AS r "
                "ON r.owner_id = n.owner_id AND r.note_id = n.id"
            )
        ).all(),
    )
    assert len(copied) == 6
    assert all(note_tags == revision_tags for note_tags, revision_tags in copied)

    await asyncio.to_thread(downgrade, empty_url, "0005")
    assert await _on(empty_url, _notes) == before
