"""On PostgreSQL, recording a change in the event log costs no statement of its own: the
event rides in the statement that makes the change, and a note's creation stays one
statement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import URL

from adapters.sqlalchemy import SqlDatabase, create_engine
from adapters.system import Uuid7Factory
from application import NoteChanges, NoteDraft, Notes
from tests.databases import migrated, scratch_postgres_database
from tests.owner_rule import SERVICE_STATEMENTS
from tests.support import ALICE, ManualClock, register_owners


@pytest.fixture
async def database(postgres_server_url: URL) -> AsyncIterator[SqlDatabase]:
    """A database of its own, so that only this test's statements reach it."""
    async with scratch_postgres_database(postgres_server_url) as url:
        await migrated(url)
        engine = create_engine(url)
        try:
            yield SqlDatabase(engine)
        finally:
            await engine.dispose()


async def test_each_change_and_its_event_are_one_statement(database: SqlDatabase) -> None:
    name = database.engine.url.database

    async def _sent() -> list[str]:
        await asyncio.sleep(0)  # asyncpg hands its query loggers the last statements now
        return SERVICE_STATEMENTS.take(name)

    await register_owners(database.unit_of_work)
    notes = Notes(database.unit_of_work, ManualClock(), Uuid7Factory())
    await _sent()
    note = await notes.create_note(ALICE, NoteDraft("one"))
    # Alone, committed by itself: no BEGIN, no COMMIT.
    [created] = await _sent()
    assert "INSERT INTO notes" in created
    assert "INSERT INTO note_events" in created
    await notes.patch_note(ALICE, note.id, NoteChanges(title="two"))
    recording = [sql for sql in await _sent() if "note_event" in sql]
    assert len(recording) == 1
    assert "UPDATE notes" in recording[0]
    await notes.delete_note(ALICE, note.id)
    recording = [sql for sql in await _sent() if "note_event" in sql]
    assert len(recording) == 1
    assert "DELETE FROM notes" in recording[0]
