"""The contract of revisions and the trash, on every backend: a revision per write kept in
the write's transaction, pruning, restoring, the trash out of sight of every read of notes,
the purge, and two owners who never see each other's."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.system import Uuid7Factory
from application import (
    NoteChanges,
    NoteDraft,
    NoteFilter,
    NoteNotFound,
    NoteQuery,
    Notes,
    UnitOfWorkFactory,
)
from application.revisions import PurgeTrash, Revisions, Trash
from domain.revisions import RevisionPolicy
from domain.search import parse_query
from tests.owner_rule import SERVICE_STATEMENTS
from tests.support import ALICE, BOB, START, ManualClock, make_note

KEPT = 4


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def notes(uow_factory: UnitOfWorkFactory, clock: ManualClock) -> Notes:
    return Notes(uow_factory, clock, Uuid7Factory(), revisions=RevisionPolicy(KEPT))


@pytest.fixture
def revisions(uow_factory: UnitOfWorkFactory, clock: ManualClock) -> Revisions:
    return Revisions(uow_factory, clock, policy=RevisionPolicy(KEPT))


@pytest.fixture
def trash(uow_factory: UnitOfWorkFactory, clock: ManualClock) -> Trash:
    return Trash(uow_factory, clock, policy=RevisionPolicy(KEPT))


async def _versions(uow_factory: UnitOfWorkFactory, owner: object, note_id: object) -> list[int]:
    async with uow_factory() as uow:
        kept = await uow.revisions.list(owner, note_id, limit=1000)  # type: ignore[arg-type]
    return [r.version for r in kept]


async def test_each_write_keeps_a_revision_with_its_content(
    uow_factory: UnitOfWorkFactory, notes: Notes, clock: ManualClock
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("v1", "first body", ["a", "b"]))
    clock.advance(timedelta(seconds=1))
    patched = await notes.patch_note(ALICE, note.id, NoteChanges(title="v2"))
    assert await _versions(uow_factory, ALICE, note.id) == [2, 1]
    async with uow_factory() as uow:
        first = await uow.revisions.get(ALICE, note.id, 1)
        second = await uow.revisions.get(ALICE, note.id, 2)
        assert await uow.revisions.get(ALICE, note.id, 3) is None
    assert first is not None
    assert second is not None
    assert (first.title.value, first.description.value, first.tags.values) == (
        "v1",
        "first body",
        ("a", "b"),
    )
    assert first.updated_date == note.updated_date
    assert (second.title.value, second.updated_date) == ("v2", patched.updated_date)


async def test_an_import_keeps_a_revision_of_every_note(
    uow_factory: UnitOfWorkFactory, notes: Notes
) -> None:
    made = await notes.import_notes(ALICE, [NoteDraft(f"n{i}") for i in range(3)])
    for note in made:
        assert await _versions(uow_factory, ALICE, note.id) == [1]


async def test_a_write_rolled_back_keeps_no_revision(uow_factory: UnitOfWorkFactory) -> None:
    note = make_note("kept")
    async with uow_factory() as uow:
        await uow.notes.add(note)
        await uow.commit()
    async with uow_factory() as uow:
        edited = note.edited(now=START + timedelta(seconds=1))
        assert await uow.notes.update(edited, expected_version=1)
        await uow.rollback()
    assert await _versions(uow_factory, ALICE, note.id) == [1]


async def test_only_the_newest_revisions_are_kept(
    uow_factory: UnitOfWorkFactory, notes: Notes, revisions: Revisions
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("v1"))
    for n in range(2, 8):
        await notes.patch_note(ALICE, note.id, NoteChanges(title=f"v{n}"))
    assert await _versions(uow_factory, ALICE, note.id) == [7, 6, 5, 4]
    page = await revisions.list_revisions(ALICE, note.id, limit=3)
    assert [r.version for r in page.revisions] == [7, 6, 5]
    rest = await revisions.list_revisions(ALICE, note.id, limit=3, before=page.next)
    assert ([r.version for r in rest.revisions], rest.next) == ([4], None)


async def test_restoring_a_revision_is_a_new_version(
    uow_factory: UnitOfWorkFactory, notes: Notes, revisions: Revisions
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("first", "body", ["x"]))
    await notes.replace_note(ALICE, note.id, NoteDraft("second"))
    restored = await revisions.restore_revision(ALICE, note.id, 1, if_version=2)
    assert (restored.version, restored.title.value, restored.tags.values) == (3, "first", ("x",))
    assert (await notes.get_note(ALICE, note.id)).title.value == "first"
    assert await _versions(uow_factory, ALICE, note.id) == [3, 2, 1]


async def test_a_trashed_note_is_out_of_every_read_of_notes(
    uow_factory: UnitOfWorkFactory, notes: Notes, trash: Trash, clock: ManualClock
) -> None:
    kept = await notes.create_note(ALICE, NoteDraft("milk kept", tags=["home"]))
    doomed = await notes.create_note(ALICE, NoteDraft("milk doomed", tags=["home"]))
    clock.advance(timedelta(minutes=1))
    await notes.delete_note(ALICE, doomed.id, if_version=1)
    with pytest.raises(NoteNotFound):
        await notes.get_note(ALICE, doomed.id)
    everything = await notes.find_notes(ALICE, NoteQuery())
    searched = await notes.find_notes(ALICE, NoteQuery(text="milk", order="relevance"))
    tagged = await notes.find_notes(ALICE, NoteQuery(tags=["home"]))
    for page in (everything, searched, tagged):
        assert [n.id for n in page.notes] == [kept.id]
    exported = [n.id async for page in notes.export_notes(ALICE) for n in page]
    assert exported == [kept.id]
    async with uow_factory() as uow:
        assert await uow.notes.get(ALICE, doomed.id, for_update=True) is None
        found = await uow.notes.find(
            ALICE, NoteFilter(search=parse_query("doomed")), "relevance", limit=5
        )
        assert found == []
    trashed = await trash.get_trashed(ALICE, doomed.id)
    assert (trashed.note.title.value, trashed.note.version) == ("milk doomed", 1)
    assert trashed.deleted_date == clock.now()
    # Its revisions stay, for a restore.
    assert await _versions(uow_factory, ALICE, doomed.id) == [1]


async def test_restoring_from_the_trash_brings_the_note_back_one_version_later(
    uow_factory: UnitOfWorkFactory, notes: Notes, trash: Trash
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("back", tags=["t"]))
    await notes.patch_note(ALICE, note.id, NoteChanges(description="edited"))
    await notes.delete_note(ALICE, note.id)
    restored = await trash.restore(ALICE, note.id)
    assert (restored.id, restored.version, restored.description.value) == (note.id, 3, "edited")
    assert restored.created_date == note.created_date
    assert (await notes.get_note(ALICE, note.id)).version == 3
    assert [n.id for n in (await notes.find_notes(ALICE, NoteQuery(tags=["t"]))).notes] == [note.id]
    assert await _versions(uow_factory, ALICE, note.id) == [3, 2, 1]
    assert (await trash.list_trash(ALICE)).notes == []


async def test_a_restore_from_the_trash_prunes_too(
    uow_factory: UnitOfWorkFactory, notes: Notes, trash: Trash
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("v1"))
    for n in range(2, 5):
        await notes.patch_note(ALICE, note.id, NoteChanges(title=f"v{n}"))
    await notes.delete_note(ALICE, note.id)
    await trash.restore(ALICE, note.id)
    assert await _versions(uow_factory, ALICE, note.id) == [5, 4, 3, 2]


async def test_deleting_for_good_takes_the_revisions(
    uow_factory: UnitOfWorkFactory, notes: Notes, trash: Trash
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("gone"))
    await notes.patch_note(ALICE, note.id, NoteChanges(title="gone 2"))
    await notes.delete_note(ALICE, note.id)
    await trash.delete_for_good(ALICE, note.id)
    with pytest.raises(NoteNotFound):
        await trash.get_trashed(ALICE, note.id)
    with pytest.raises(NoteNotFound):
        await trash.delete_for_good(ALICE, note.id)
    assert await _versions(uow_factory, ALICE, note.id) == []


async def test_the_trash_pages_most_recently_deleted_first(
    notes: Notes, trash: Trash, clock: ManualClock
) -> None:
    made = [await notes.create_note(ALICE, NoteDraft(f"n{i}")) for i in range(5)]
    clock.advance(timedelta(seconds=1))
    for note in made[:2]:  # deleted at the same moment: the id breaks the tie
        await notes.delete_note(ALICE, note.id)
    for note in made[2:]:
        clock.advance(timedelta(seconds=1))
        await notes.delete_note(ALICE, note.id)
    seen = []
    after = None
    while True:
        page = await trash.list_trash(ALICE, limit=2, after=after)
        seen += [t.note.id for t in page.notes]
        if page.next is None:
            break
        after = page.next
    assert seen == [made[4].id, made[3].id, made[2].id, made[1].id, made[0].id]


async def test_the_purge_deletes_what_outlived_the_retention(
    uow_factory: UnitOfWorkFactory, notes: Notes, trash: Trash, clock: ManualClock
) -> None:
    old = await notes.create_note(ALICE, NoteDraft("old"))
    young = await notes.create_note(BOB, NoteDraft("young"))
    live = await notes.create_note(ALICE, NoteDraft("live"))
    await notes.delete_note(ALICE, old.id)
    clock.advance(timedelta(days=10))
    await notes.delete_note(BOB, young.id)
    clock.advance(timedelta(days=20, seconds=1))
    purge = PurgeTrash(uow_factory, clock, retention=timedelta(days=30))
    # A sweep across every owner, not a request: outside the per-request owner rule.
    with SERVICE_STATEMENTS.paused():
        assert await purge() == 1
    with pytest.raises(NoteNotFound):
        await trash.get_trashed(ALICE, old.id)
    assert await _versions(uow_factory, ALICE, old.id) == []
    assert (await trash.get_trashed(BOB, young.id)).note.title.value == "young"
    assert await _versions(uow_factory, BOB, young.id) == [1]
    assert await _versions(uow_factory, ALICE, live.id) == [1]


async def test_two_owners_never_see_each_others_revisions_or_trash(
    uow_factory: UnitOfWorkFactory, notes: Notes, revisions: Revisions, trash: Trash
) -> None:
    alices = await notes.create_note(ALICE, NoteDraft("alice's"))
    bobs = await notes.create_note(BOB, NoteDraft("bob's"))
    await notes.delete_note(BOB, bobs.id)
    assert await _versions(uow_factory, BOB, alices.id) == []
    async with uow_factory() as uow:
        assert await uow.revisions.get(BOB, alices.id, 1) is None
        assert await uow.trashed.get(ALICE, bobs.id) is None
        assert await uow.trashed.take(ALICE, bobs.id) is None
        assert not await uow.trashed.delete(ALICE, bobs.id)
        assert not await uow.notes.trash(BOB, alices.id, expected_version=1, at=START)
    with pytest.raises(NoteNotFound):
        await revisions.list_revisions(BOB, alices.id)
    with pytest.raises(NoteNotFound):
        await trash.restore(ALICE, bobs.id)
    assert (await trash.list_trash(ALICE)).notes == []
    assert [t.note.id for t in (await trash.list_trash(BOB)).notes] == [bobs.id]
    assert (await notes.get_note(ALICE, alices.id)).version == 1


async def test_racing_writes_leave_every_version_once(
    uow_factory: UnitOfWorkFactory, notes: Notes, revisions: Revisions
) -> None:
    policy = RevisionPolicy(100)
    racing = Notes(uow_factory, ManualClock(), Uuid7Factory(), revisions=policy)
    note = await racing.create_note(ALICE, NoteDraft("raced"))
    await asyncio.gather(
        *(racing.patch_note(ALICE, note.id, NoteChanges(description=f"w{i}")) for i in range(20))
    )
    listing = Revisions(uow_factory, ManualClock(), policy=policy)
    page = await listing.list_revisions(ALICE, note.id, limit=100)
    assert [r.version for r in page.revisions] == list(range(21, 0, -1))
    descriptions = {r.description.value for r in page.revisions if r.version > 1}
    assert descriptions == {f"w{i}" for i in range(20)}
