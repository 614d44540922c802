"""The contract of the event log, on every backend: every change to a note recorded in the
change's own unit of work, numbered per owner in commit order, paged, pruned; owners never
see each other's events."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.system import Uuid7Factory
from application import NoteChanges, NoteDraft, Notes, PreconditionFailed, UnitOfWorkFactory
from application.revisions import PurgeTrash, Revisions, Trash
from tests.owner_rule import SERVICE_STATEMENTS
from tests.support import ALICE, BOB, START, ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def notes(uow_factory: UnitOfWorkFactory, clock: ManualClock) -> Notes:
    return Notes(uow_factory, clock, Uuid7Factory())


async def _log(uow_factory: UnitOfWorkFactory, owner: object, after: int = 0) -> list[tuple]:
    async with uow_factory() as uow:
        found = await uow.events.after(owner, after, limit=1000)  # type: ignore[arg-type]
    return [(e.seq, e.note_id, e.kind, e.version) for e in found]


async def test_every_change_to_a_note_is_recorded_in_order(
    uow_factory: UnitOfWorkFactory, notes: Notes, clock: ManualClock
) -> None:
    revisions = Revisions(uow_factory, clock)
    trash = Trash(uow_factory, clock)
    note = await notes.create_note(ALICE, NoteDraft("one"))
    clock.advance(timedelta(seconds=1))
    await notes.patch_note(ALICE, note.id, NoteChanges(title="two"))
    await notes.replace_note(ALICE, note.id, NoteDraft("three"))
    await revisions.restore_revision(ALICE, note.id, 1)
    await notes.delete_note(ALICE, note.id)
    await trash.restore(ALICE, note.id)
    await notes.delete_note(ALICE, note.id)
    await trash.delete_for_good(ALICE, note.id)
    assert await _log(uow_factory, ALICE) == [
        (1, note.id, "created", 1),
        (2, note.id, "updated", 2),
        (3, note.id, "updated", 3),
        (4, note.id, "updated", 4),
        (5, note.id, "deleted", 4),
        (6, note.id, "restored", 5),
        (7, note.id, "deleted", 5),
        (8, note.id, "purged", 5),
    ]
    async with uow_factory() as uow:
        [created, updated] = await uow.events.after(ALICE, 0, limit=2)
    assert (created.owner_id, created.at) == (ALICE, START)
    assert updated.at == START + timedelta(seconds=1)


async def test_an_import_records_each_note_and_the_purge_each_note_it_deletes(
    uow_factory: UnitOfWorkFactory, notes: Notes, clock: ManualClock
) -> None:
    imported = await notes.import_notes(ALICE, [NoteDraft(f"n{i}") for i in range(5)])
    assert await _log(uow_factory, ALICE) == [
        (i + 1, note.id, "created", 1) for i, note in enumerate(imported)
    ]
    await notes.delete_note(ALICE, imported[0].id)
    await notes.delete_note(BOB, (await notes.create_note(BOB, NoteDraft("b"))).id)
    clock.advance(timedelta(days=31))
    with SERVICE_STATEMENTS.paused():
        assert await PurgeTrash(uow_factory, clock, retention=timedelta(days=30))() == 2
    assert (await _log(uow_factory, ALICE, after=6)) == [(7, imported[0].id, "purged", 1)]
    assert [kind for _, _, kind, _ in await _log(uow_factory, BOB)] == [
        "created",
        "deleted",
        "purged",
    ]


async def test_a_change_that_fails_records_nothing(
    uow_factory: UnitOfWorkFactory, notes: Notes
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("one"))
    with pytest.raises(PreconditionFailed):
        await notes.patch_note(ALICE, note.id, NoteChanges(title="x"), if_version=7)
    async with uow_factory() as uow:
        await uow.events.append(ALICE, note.id, "updated", 2, START)
        # Left without commit: rolled back, and its number is not spent.
    await notes.patch_note(ALICE, note.id, NoteChanges(title="two"))
    assert await _log(uow_factory, ALICE) == [
        (1, note.id, "created", 1),
        (2, note.id, "updated", 2),
    ]


async def test_owners_have_their_own_numbers_and_never_see_each_others_events(
    uow_factory: UnitOfWorkFactory, notes: Notes
) -> None:
    alices = await notes.create_note(ALICE, NoteDraft("a"))
    bobs = await notes.create_note(BOB, NoteDraft("b"))
    assert await _log(uow_factory, ALICE) == [(1, alices.id, "created", 1)]
    assert await _log(uow_factory, BOB) == [(1, bobs.id, "created", 1)]


async def test_pages_follow_the_numbers_and_pruning_forgets_the_old(
    uow_factory: UnitOfWorkFactory, notes: Notes, clock: ManualClock
) -> None:
    async with uow_factory() as uow:
        assert await uow.events.oldest_kept(ALICE) is None
    first = await notes.create_note(ALICE, NoteDraft("old"))
    clock.advance(timedelta(days=2))
    later = [await notes.create_note(ALICE, NoteDraft(f"n{i}")) for i in range(4)]
    await notes.create_note(BOB, NoteDraft("bob's old"))
    async with uow_factory() as uow:
        assert [e.seq for e in await uow.events.after(ALICE, 1, limit=2)] == [2, 3]
        assert [e.seq for e in await uow.events.after(ALICE, 3, limit=10)] == [4, 5]
        assert await uow.events.after(ALICE, 5, limit=10) == []
        assert await uow.events.oldest_kept(ALICE) == 1
    async with uow_factory() as uow:
        with SERVICE_STATEMENTS.paused():
            assert await uow.events.prune(START + timedelta(days=1)) == 1
        await uow.commit()
    assert [note_id for _, note_id, _, _ in await _log(uow_factory, ALICE)] == [n.id for n in later]
    assert first.id not in [n for _, n, _, _ in await _log(uow_factory, ALICE)]
    async with uow_factory() as uow:
        assert await uow.events.oldest_kept(ALICE) == 2
        assert await uow.events.after(ALICE, 0, limit=1) == (
            await uow.events.after(ALICE, 1, limit=1)
        )
    # Numbers go on after a prune.
    newest = await notes.create_note(ALICE, NoteDraft("new"))
    assert (await _log(uow_factory, ALICE, after=5)) == [(6, newest.id, "created", 1)]


async def test_numbers_follow_commit_order_when_writers_of_one_owner_overlap(
    uow_factory: UnitOfWorkFactory, notes: Notes, clock: ManualClock
) -> None:
    """A writer that started first but commits last gets the last number, whether the
    backend makes the second writer wait for the first or numbers events at commit."""
    note = await notes.create_note(ALICE, NoteDraft("slow"))
    slow_wrote = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> None:
        async with uow_factory() as uow:
            current = await uow.notes.get(ALICE, note.id, for_update=True)
            assert current is not None
            new = current.edited(now=clock.now(), title=None, description=None, tags=None)
            await uow.events.append(ALICE, note.id, "updated", new.version, new.updated_date)
            assert await uow.notes.update(new, expected_version=current.version)
            slow_wrote.set()
            await release.wait()
            await uow.commit()

    slow_task = asyncio.create_task(slow())
    await asyncio.wait_for(slow_wrote.wait(), 10)
    fast = asyncio.create_task(notes.create_note(ALICE, NoteDraft("fast")))

    await asyncio.sleep(0.2)
    overtook = fast.done()
    # A reader meanwhile sees only what committed, in order, without a gap.
    committed = [(1, note.id, "created", 1)]
    if overtook:
        committed.append((2, fast.result().id, "created", 1))
    assert await _log(uow_factory, ALICE) == committed
    release.set()
    await asyncio.wait_for(slow_task, 10)
    created = await asyncio.wait_for(fast, 10)
    slow_event = (note.id, "updated", 2)
    fast_event = (created.id, "created", 1)
    in_commit_order = [fast_event, slow_event] if overtook else [slow_event, fast_event]
    assert await _log(uow_factory, ALICE) == [
        (1, note.id, "created", 1),
        *((seq, *event) for seq, event in enumerate(in_commit_order, start=2)),
    ]
