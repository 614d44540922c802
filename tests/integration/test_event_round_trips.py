"""The event log on PostgreSQL: recording a change costs no statement of its own (the event
rides in the statement that makes the change; a note's creation stays one statement, and its
edit a read and one statement), and
events are numbered while their transaction commits, so an open writer holds up no other
writer of the same owner."""

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
    # An edit is its read and one autocommitted write: no BEGIN, no COMMIT.
    [read, edited] = await _sent()
    assert "JOIN notes" in read
    assert "note_event" not in read
    assert "UPDATE notes" in edited
    assert "INSERT INTO note_events" in edited
    await notes.delete_note(ALICE, note.id)
    recording = [sql for sql in await _sent() if "note_event" in sql]
    assert len(recording) == 1
    assert "DELETE FROM notes" in recording[0]


async def _log(database: SqlDatabase) -> list[tuple[int, object, int]]:
    async with database.unit_of_work() as uow:
        events = await uow.events.after(ALICE, 0, limit=10_000)
    return [(event.seq, event.note_id, event.version) for event in events]


async def test_an_open_writer_holds_up_no_other_writer_of_its_owner(
    database: SqlDatabase,
) -> None:
    await register_owners(database.unit_of_work)
    clock = ManualClock()
    notes = Notes(database.unit_of_work, clock, Uuid7Factory())
    note = await notes.create_note(ALICE, NoteDraft("slow"))
    async with database.unit_of_work() as uow:
        current = await uow.notes.get(ALICE, note.id, for_update=True)
        assert current is not None
        new = current.edited(now=clock.now(), title=None, description=None, tags=None)
        await uow.events.append(ALICE, note.id, "updated", new.version, new.updated_date)
        assert await uow.notes.update(new, expected_version=current.version)
        # Written, not committed: another writer of Alice's goes ahead and commits.
        fast = await asyncio.wait_for(notes.create_note(ALICE, NoteDraft("fast")), 5)
        assert await _log(database) == [(1, note.id, 1), (2, fast.id, 1)]
        await uow.commit()
    assert await _log(database) == [(1, note.id, 1), (2, fast.id, 1), (3, note.id, 2)]


async def test_overlapping_writers_of_one_owner_get_every_number_once_in_commit_order(
    database: SqlDatabase,
) -> None:
    """Edits, creations and imports of one owner at once: none fails (the commit-time
    numbering and the usage trigger take the owner's rows in one order), the numbers run
    from 1 without a gap, and each note's versions rise with them."""
    await register_owners(database.unit_of_work)
    notes = Notes(database.unit_of_work, ManualClock(), Uuid7Factory())
    shared = [await notes.create_note(ALICE, NoteDraft(f"n{i}")) for i in range(4)]

    async def writer(index: int) -> None:
        for turn in range(15):
            if turn % 5 == 4:
                await notes.import_notes(
                    ALICE, [NoteDraft(f"i{index}.{turn}.{k}") for k in range(3)]
                )
            elif turn % 2:
                await notes.create_note(ALICE, NoteDraft(f"c{index}.{turn}"))
            else:
                await notes.patch_note(
                    ALICE, shared[(index + turn) % 4].id, NoteChanges(title=f"p{index}.{turn}")
                )

    await asyncio.wait_for(asyncio.gather(*(writer(i) for i in range(8))), 60)
    log = await _log(database)
    assert [seq for seq, _, _ in log] == list(range(1, len(log) + 1))
    assert len(log) == 4 + 8 * (3 * 3 + 6 + 6)
    versions: dict[object, int] = {}
    for _, note_id, version in log:
        assert version > versions.get(note_id, 0)
        versions[note_id] = version
