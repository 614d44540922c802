"""The rules of revisions and the trash, on the in-memory adapter: which writes make a
revision, what restoring does to ``version``, what a deleted note may and may not do, how
many revisions are kept."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from adapters.memory import MemoryDatabase
from adapters.system import Uuid7Factory
from application import NoteChanges, NoteDraft, NoteNotFound, Notes, PreconditionFailed
from application.retention import Sweep
from application.revisions import PurgeTrash, RevisionNotFound, Revisions, Trash
from domain.revisions import InvalidRetention, RevisionPolicy
from tests.support import ALICE, BOB, ManualClock

KEPT = 5


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def database() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def notes(database: MemoryDatabase, clock: ManualClock) -> Notes:
    return Notes(database.unit_of_work, clock, Uuid7Factory(), revisions=RevisionPolicy(KEPT))


@pytest.fixture
def revisions(database: MemoryDatabase, clock: ManualClock) -> Revisions:
    return Revisions(database.unit_of_work, clock, policy=RevisionPolicy(KEPT))


@pytest.fixture
def trash(database: MemoryDatabase, clock: ManualClock) -> Trash:
    return Trash(database.unit_of_work, clock, policy=RevisionPolicy(KEPT))


async def _versions(revisions: Revisions, note_id: object) -> list[int]:
    page = await revisions.list_revisions(ALICE, note_id, limit=1000)  # type: ignore[arg-type]
    return [r.version for r in page.revisions]


async def test_every_write_is_a_revision_the_current_one_included(
    notes: Notes, revisions: Revisions, clock: ManualClock
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("v1", "one", ["a"]))
    clock.advance(timedelta(seconds=1))
    await notes.patch_note(ALICE, note.id, NoteChanges(title="v2"))
    clock.advance(timedelta(seconds=1))
    current = await notes.replace_note(ALICE, note.id, NoteDraft("v3", "three", ["b"]))
    assert await _versions(revisions, note.id) == [3, 2, 1]
    first = await revisions.get_revision(ALICE, note.id, 1)
    assert (first.title.value, first.description.value, first.tags.values) == ("v1", "one", ("a",))
    newest = await revisions.get_revision(ALICE, note.id, 3)
    assert (newest.title, newest.updated_date) == (current.title, current.updated_date)


async def test_only_the_newest_revisions_are_kept(notes: Notes, revisions: Revisions) -> None:
    note = await notes.create_note(ALICE, NoteDraft("v1"))
    for n in range(2, 9):
        await notes.patch_note(ALICE, note.id, NoteChanges(title=f"v{n}"))
    assert await _versions(revisions, note.id) == [8, 7, 6, 5, 4]
    with pytest.raises(RevisionNotFound):
        await revisions.get_revision(ALICE, note.id, 3)


async def test_revisions_page_newest_first(notes: Notes, revisions: Revisions) -> None:
    note = await notes.create_note(ALICE, NoteDraft("v1"))
    for n in range(2, 5):
        await notes.patch_note(ALICE, note.id, NoteChanges(title=f"v{n}"))
    first = await revisions.list_revisions(ALICE, note.id, limit=3)
    assert [r.version for r in first.revisions] == [4, 3, 2]
    second = await revisions.list_revisions(ALICE, note.id, limit=3, before=first.next)
    assert ([r.version for r in second.revisions], second.next) == ([1], None)


async def test_restoring_a_revision_is_a_new_version_and_a_revision(
    notes: Notes, revisions: Revisions
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("first", "body", ["x"]))
    await notes.replace_note(ALICE, note.id, NoteDraft("second"))
    restored = await revisions.restore_revision(ALICE, note.id, 1, if_version=2)
    assert restored.version == 3
    assert (restored.title.value, restored.description.value, restored.tags.values) == (
        "first",
        "body",
        ("x",),
    )
    assert await notes.get_note(ALICE, note.id) == restored
    assert (await notes.get_note(ALICE, note.id)).version == 3
    assert await _versions(revisions, note.id) == [3, 2, 1]


async def test_a_restore_honours_if_version_and_unknown_versions(
    notes: Notes, revisions: Revisions
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("first"))
    await notes.patch_note(ALICE, note.id, NoteChanges(title="second"))
    with pytest.raises(PreconditionFailed):
        await revisions.restore_revision(ALICE, note.id, 1, if_version=1)
    with pytest.raises(RevisionNotFound):
        await revisions.restore_revision(ALICE, note.id, 7)
    assert (await notes.get_note(ALICE, note.id)).title.value == "second"
    assert await _versions(revisions, note.id) == [2, 1]


async def test_another_owner_sees_no_revision(notes: Notes, revisions: Revisions) -> None:
    note = await notes.create_note(ALICE, NoteDraft("mine"))
    with pytest.raises(NoteNotFound):
        await revisions.list_revisions(BOB, note.id)
    with pytest.raises(NoteNotFound):
        await revisions.get_revision(BOB, note.id, 1)
    with pytest.raises(NoteNotFound):
        await revisions.restore_revision(BOB, note.id, 1)


async def test_a_deleted_note_is_only_in_the_trash(
    notes: Notes, revisions: Revisions, trash: Trash, clock: ManualClock
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("doomed"))
    clock.advance(timedelta(minutes=1))
    await notes.delete_note(ALICE, note.id, if_version=1)
    with pytest.raises(NoteNotFound):
        await notes.get_note(ALICE, note.id)
    with pytest.raises(NoteNotFound):
        await notes.patch_note(ALICE, note.id, NoteChanges(title="edit"))
    with pytest.raises(NoteNotFound):
        await revisions.list_revisions(ALICE, note.id)
    with pytest.raises(NoteNotFound):
        await revisions.restore_revision(ALICE, note.id, 1)
    assert await notes.list_notes(ALICE) == []
    trashed = await trash.get_trashed(ALICE, note.id)
    assert (trashed.note.title.value, trashed.deleted_date) == ("doomed", clock.now())
    with pytest.raises(NoteNotFound):
        await trash.get_trashed(BOB, note.id)


async def test_restoring_from_the_trash_is_a_new_version(
    notes: Notes, revisions: Revisions, trash: Trash
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("back"))
    await notes.patch_note(ALICE, note.id, NoteChanges(description="edited"))
    await notes.delete_note(ALICE, note.id)
    with pytest.raises(NoteNotFound):
        await trash.restore(BOB, note.id)
    restored = await trash.restore(ALICE, note.id)
    assert (restored.id, restored.version, restored.description.value) == (note.id, 3, "edited")
    assert await notes.get_note(ALICE, note.id) == restored
    assert await _versions(revisions, note.id) == [3, 2, 1]
    assert (await trash.list_trash(ALICE)).notes == []
    with pytest.raises(NoteNotFound):
        await trash.restore(ALICE, note.id)


async def test_deleting_for_good_takes_the_revisions(
    notes: Notes, trash: Trash, database: MemoryDatabase
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("gone"))
    with pytest.raises(NoteNotFound):
        await trash.delete_for_good(ALICE, note.id)  # not in the trash: still a note
    await notes.delete_note(ALICE, note.id)
    with pytest.raises(NoteNotFound):
        await trash.delete_for_good(BOB, note.id)
    await trash.delete_for_good(ALICE, note.id)
    with pytest.raises(NoteNotFound):
        await trash.get_trashed(ALICE, note.id)
    async with database.unit_of_work() as uow:
        assert await uow.revisions.list(ALICE, note.id, limit=10) == []


async def test_the_trash_lists_the_most_recently_deleted_first(
    notes: Notes, trash: Trash, clock: ManualClock
) -> None:
    made = [await notes.create_note(ALICE, NoteDraft(f"n{i}")) for i in range(3)]
    for note in made:
        clock.advance(timedelta(seconds=1))
        await notes.delete_note(ALICE, note.id)
    first = await trash.list_trash(ALICE, limit=2)
    assert [t.note.id for t in first.notes] == [made[2].id, made[1].id]
    second = await trash.list_trash(ALICE, limit=2, after=first.next)
    assert ([t.note.id for t in second.notes], second.next) == ([made[0].id], None)
    assert (await trash.list_trash(BOB)).notes == []


async def test_the_purge_deletes_what_outlived_the_retention(
    notes: Notes, trash: Trash, clock: ManualClock, database: MemoryDatabase
) -> None:
    old = await notes.create_note(ALICE, NoteDraft("old"))
    young = await notes.create_note(BOB, NoteDraft("young"))
    await notes.delete_note(ALICE, old.id)
    clock.advance(timedelta(days=10))
    await notes.delete_note(BOB, young.id)
    purge = PurgeTrash(database.unit_of_work, clock, retention=timedelta(days=30))
    clock.advance(timedelta(days=20))
    assert await purge() == 0  # exactly 30 days is not longer than 30 days
    clock.advance(timedelta(seconds=1))
    assert await purge() == 1
    with pytest.raises(NoteNotFound):
        await trash.get_trashed(ALICE, old.id)
    assert (await trash.get_trashed(BOB, young.id)).note.title.value == "young"
    async with database.unit_of_work() as uow:
        assert await uow.revisions.list(ALICE, old.id, limit=10) == []
        assert len(await uow.revisions.list(BOB, young.id, limit=10)) == 1


async def test_a_policy_keeps_at_least_the_current_revision() -> None:
    with pytest.raises(InvalidRetention):
        RevisionPolicy(0)
    assert RevisionPolicy(1).oldest_kept(7) == 7
    assert RevisionPolicy(100).oldest_kept(7) == 1


async def test_unknown_notes_have_no_revisions(revisions: Revisions) -> None:
    with pytest.raises(NoteNotFound):
        await revisions.list_revisions(ALICE, uuid4())


async def test_the_sweep_purges_the_trash(
    notes: Notes, clock: ManualClock, database: MemoryDatabase
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("old"))
    await notes.delete_note(ALICE, note.id)
    purge = PurgeTrash(database.unit_of_work, clock, retention=timedelta(days=30))
    sweep = Sweep(
        database.unit_of_work, clock, failure_window=timedelta(minutes=15), purge_trash=purge
    )
    assert (await sweep()).trashed_notes == 0
    clock.advance(timedelta(days=31))
    assert (await sweep()).trashed_notes == 1
