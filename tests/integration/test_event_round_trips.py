"""On PostgreSQL, recording a change in the event log costs no statement of its own: the
event rides in the statement that makes the change, and a note's creation stays one
statement."""

from __future__ import annotations

import asyncio

from adapters.sqlalchemy import SqlDatabase
from adapters.system import Uuid7Factory
from application import NoteChanges, NoteDraft, Notes
from tests.owner_rule import SERVICE_STATEMENTS
from tests.support import ALICE, ManualClock, register_owners


async def _sent() -> list[str]:
    await asyncio.sleep(0)  # asyncpg hands its query loggers the last statements now
    return SERVICE_STATEMENTS.take()


async def test_each_change_and_its_event_are_one_statement(postgres_database: SqlDatabase) -> None:
    await register_owners(postgres_database.unit_of_work)
    notes = Notes(postgres_database.unit_of_work, ManualClock(), Uuid7Factory())
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
