"""The transfer port (``application.transfer``) on every backend: pages by keyset, one
owner at a time; plain inserts that keep every value and make nothing else; an owner
removed with everything of theirs. (The owner rule is checked here as in every contract
test: each statement on a per-user table names its owner.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from application import Conflict, UnitOfWorkFactory
from application.transfer import KINDS, kind_named
from domain import User, Username
from domain.revisions import Revision, TrashedNote
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
