"""The transfer port (``application.transfer``) on every backend: pages by keyset, one
owner at a time; plain inserts that keep every value and make nothing else; an owner
removed with everything of theirs. (The owner rule is checked here as in every contract
test: each statement on a per-user table names its owner.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from application import Conflict, UnitOfWorkFactory
from application.events import EventHead, NoteEvent
from application.transfer import KINDS, kind_named
from domain import User, Username
from domain.access import Relation
from domain.revisions import Revision, TrashedNote
from domain.sharing import Share, SharedNote
from tests.support import ALICE, BOB, START, make_note


async def _all(uow_factory: UnitOfWorkFactory, kind: str, owner: Any, limit: int) -> list[Any]:
    found: list[Any] = []
    key = None
    while True:
        async with uow_factory() as uow:
            page = await uow.transfer.records(kind, owner, after=key, limit=limit)
        assert len(page) <= limit
        found.extend(page)
        if len(page) < limit:
            return found
        key = kind_named(kind).key(page[-1])


async def test_records_come_one_owner_at_a_time_in_key_order_across_pages(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alices = [make_note(f"a{i}", created=START + timedelta(seconds=i)) for i in range(5)]
    bobs = [make_note("b", owner_id=BOB)]
    async with uow_factory() as uow:
        await uow.notes.add_many([*alices, *bobs])
        await uow.commit()
    edited = alices[0].edited(now=START + timedelta(hours=1))
    async with uow_factory() as uow:
        assert await uow.notes.update(edited, expected_version=1)
        await uow.commit()

    notes = await _all(uow_factory, "notes", ALICE, limit=2)
    assert [n.id for n in notes] == sorted(n.id for n in alices)
    assert {n.id: n.version for n in notes}[alices[0].id] == 2
    revisions = await _all(uow_factory, "note_revisions", ALICE, limit=2)
    assert [(r.note_id, r.version) for r in revisions] == sorted(
        [(n.id, 1) for n in alices] + [(alices[0].id, 2)]
    )
    assert [n.id for n in await _all(uow_factory, "notes", BOB, limit=2)] == [bobs[0].id]
    async with uow_factory() as uow:
        first = await uow.transfer.users(after=None, limit=1)
        rest = await uow.transfer.users(after=first[0].id, limit=5)
    assert [u.id for u in first + rest] == sorted([ALICE, BOB])


async def test_records_added_keep_every_value_and_make_nothing_else(
    uow_factory: UnitOfWorkFactory,
) -> None:
    note = make_note("copied 🦄", "ünïcödé", ("b", "a"), created=START)
    later = note.edited(now=START + timedelta(days=2, microseconds=5))
    trashed = TrashedNote(note=make_note("gone"), deleted_date=START + timedelta(days=3))
    async with uow_factory() as uow:
        await uow.transfer.add_records("notes", [later])
        await uow.transfer.add_records("note_revisions", [Revision.of(note)])
        await uow.transfer.add_records("trashed_notes", [trashed])
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.transfer.records("notes", ALICE, after=None, limit=10)
        revisions = await uow.transfer.records("note_revisions", ALICE, after=None, limit=10)
        in_trash = await uow.transfer.records("trashed_notes", ALICE, after=None, limit=10)
    values = {kind.name: kind.values for kind in KINDS}
    assert [values["notes"](n) for n in stored] == [values["notes"](later)]
    # Only the revision given: adding a note made none of its own.
    assert [values["note_revisions"](r) for r in revisions] == [
        values["note_revisions"](Revision.of(note))
    ]
    assert [values["trashed_notes"](t) for t in in_trash] == [values["trashed_notes"](trashed)]
    # The copied note is found as any other is.
    async with uow_factory() as uow:
        assert (await uow.notes.get(ALICE, note.id)) is not None

    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.transfer.add_records("notes", [later])
            await uow.commit()


async def test_an_owner_is_removed_with_everything_of_theirs_and_no_one_elses(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alices, bob = make_note("a"), make_note("b", owner_id=BOB)
    async with uow_factory() as uow:
        await uow.notes.add_many([alices, bob])
        # Shared both ways: Bob's rows name Alice too, and go with her.
        for owner, grantee, note in ((ALICE, BOB, alices), (BOB, ALICE, bob)):
            await uow.shares.put(
                Share(
                    owner_id=owner,
                    note_id=note.id,
                    grantee_id=grantee,
                    grantee="someone",
                    permission=Relation.READ,
                    created_date=START,
                )
            )
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.notes.trash(ALICE, alices.id, expected_version=1, at=START)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.transfer.holds_users()
        await uow.transfer.remove_owner(ALICE)
        await uow.commit()
    async with uow_factory() as uow:
        assert [u.id for u in await uow.transfer.users(after=None, limit=5)] == [BOB]
        for kind in KINDS:
            assert await uow.transfer.records(kind.name, ALICE, after=None, limit=5) == []
        assert len(await uow.transfer.records("notes", BOB, after=None, limit=5)) == 1
        assert await uow.transfer.records("note_shares", BOB, after=None, limit=5) == []
        assert await uow.transfer.records("shared_notes", BOB, after=None, limit=5) == []
        # The username is free again.
        await uow.transfer.add_users(
            [
                User(
                    id=ALICE,
                    username=Username("owner-alice"),
                    password_hash="-",
                    created_date=START,
                )
            ]
        )
        await uow.commit()


async def test_an_event_log_added_goes_on_from_its_head(uow_factory: UnitOfWorkFactory) -> None:
    note = make_note("logged")
    # Bob's events 1-4 were pruned at the source, Alice's every one: the head, not the last
    # event kept, says where numbering goes on. (Bob's head comes before his events.)
    bobs = [NoteEvent(BOB, seq, note.id, "updated", seq, START) for seq in (5, 6)]
    async with uow_factory() as uow:
        await uow.transfer.add_records("note_event_heads", [EventHead(BOB, 6)])
        await uow.transfer.add_records("note_events", bobs)
        await uow.transfer.add_records("note_event_heads", [EventHead(ALICE, 7)])
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.events.last(BOB), await uow.events.oldest_kept(BOB)) == (6, 5)
        assert await uow.events.after(BOB, 4, limit=10) == bobs
        assert (await uow.events.last(ALICE), await uow.events.oldest_kept(ALICE)) == (7, None)
        await uow.events.append(ALICE, note.id, "deleted", 2, START + timedelta(hours=1))
        await uow.events.append(BOB, note.id, "deleted", 7, START + timedelta(hours=1))
        await uow.commit()
    async with uow_factory() as uow:
        assert [e.seq for e in await uow.events.after(ALICE, 0, limit=10)] == [8]
        assert [e.seq for e in await uow.events.after(BOB, 6, limit=10)] == [7]
        heads = await uow.transfer.records("note_event_heads", ALICE, after=None, limit=5)
        assert heads == [EventHead(ALICE, 8)]


async def test_shares_added_let_the_grantee_see_the_note(uow_factory: UnitOfWorkFactory) -> None:
    note = make_note("shared", created=START + timedelta(microseconds=3))
    share = Share(
        owner_id=ALICE,
        note_id=note.id,
        grantee_id=BOB,
        grantee="bob",
        permission=Relation.WRITE,
        created_date=START + timedelta(days=1),
    )
    index = SharedNote(
        grantee_id=BOB,
        note_id=note.id,
        owner_id=ALICE,
        permission=Relation.WRITE,
        note_created_date=note.created_date,
    )
    async with uow_factory() as uow:
        # The index first: each kind is written as it comes, whatever the order.
        await uow.transfer.add_records("shared_notes", [index])
        await uow.transfer.add_records("note_shares", [share])
        await uow.transfer.add_records("notes", [note])
        await uow.commit()
    async with uow_factory() as uow:
        seen = await uow.notes.visible(BOB, note.id)
        assert seen is not None
        assert seen.relation is Relation.WRITE
        [listed] = await uow.shares.list(ALICE, note.id)
        assert (listed.grantee_id, listed.permission, listed.created_date) == (
            BOB,
            Relation.WRITE,
            share.created_date,
        )
        assert await uow.transfer.records("shared_notes", BOB, after=None, limit=5) == [index]
