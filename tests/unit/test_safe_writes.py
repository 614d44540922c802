"""Idempotent creation, all-or-nothing import and paged export, on the in-memory adapter."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.memory import MemoryDatabase
from adapters.system import Uuid7Factory
from application import NoteDraft, Notes, StorageUnavailable
from application.idempotency import IdempotencyKeyReused, InvalidIdempotencyKey
from application.notes import InvalidImport, InvalidImportedNote
from tests.support import ALICE, BOB, ManualClock
from tests.support_faults import failing_bulk_writes


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def database() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def notes(database: MemoryDatabase, clock: ManualClock) -> Notes:
    return Notes(database.unit_of_work, clock, Uuid7Factory())


async def test_a_retry_with_the_key_returns_the_first_note_and_creates_nothing(
    notes: Notes,
) -> None:
    first = await notes.create_note(ALICE, NoteDraft("a"), idempotency_key="k")
    again = await notes.create_note(ALICE, NoteDraft("a"), idempotency_key="k")
    assert (again.id, again.created_date, again.version) == (first.id, first.created_date, 1)
    assert await notes.list_notes(ALICE) == [first]


async def test_the_key_with_another_request_is_refused(notes: Notes) -> None:
    await notes.create_note(ALICE, NoteDraft("a"), idempotency_key="k")
    with pytest.raises(IdempotencyKeyReused):
        await notes.create_note(ALICE, NoteDraft("b"), idempotency_key="k")
    with pytest.raises(IdempotencyKeyReused):
        await notes.import_notes(ALICE, [NoteDraft("a")], idempotency_key="k")
    assert len(await notes.list_notes(ALICE)) == 1


async def test_racing_retries_with_one_key_create_one_note(notes: Notes) -> None:
    created = await asyncio.gather(
        *(notes.create_note(ALICE, NoteDraft("a"), idempotency_key="race") for _ in range(20))
    )
    assert len({note.id for note in created}) == 1
    assert len(await notes.list_notes(ALICE)) == 1


async def test_keys_belong_to_their_owner_and_expire(notes: Notes, clock: ManualClock) -> None:
    alices = await notes.create_note(ALICE, NoteDraft("a"), idempotency_key="k")
    bobs = await notes.create_note(BOB, NoteDraft("a"), idempotency_key="k")
    assert alices.id != bobs.id
    clock.advance(timedelta(hours=24))
    later = await notes.create_note(ALICE, NoteDraft("different"), idempotency_key="k")
    assert later.id != alices.id


@pytest.mark.parametrize("key", ["", "x" * 256, "ключ", "tab\there"])
async def test_malformed_keys_are_refused(notes: Notes, key: str) -> None:
    with pytest.raises(InvalidIdempotencyKey):
        await notes.create_note(ALICE, NoteDraft("a"), idempotency_key=key)


async def test_an_import_creates_every_note_or_none(notes: Notes) -> None:
    created = await notes.import_notes(ALICE, [NoteDraft(f"n{i}") for i in range(1000)])
    assert len(created) == len(await notes.list_notes(ALICE, limit=2000)) == 1000


async def test_an_import_with_an_invalid_600th_note_creates_nothing(notes: Notes) -> None:
    drafts = [NoteDraft(f"n{i}") for i in range(1000)]
    drafts[599] = NoteDraft("ok", tags=["ok", "NOT OK"])
    with pytest.raises(InvalidImportedNote) as caught:
        await notes.import_notes(ALICE, drafts)
    assert (caught.value.note_index, caught.value.field, caught.value.index) == (599, "tags", 1)
    assert await notes.list_notes(ALICE) == []


async def test_an_import_the_storage_fails_half_way_creates_nothing(
    database: MemoryDatabase, clock: ManualClock, notes: Notes
) -> None:
    failing = Notes(failing_bulk_writes(database.unit_of_work, at_row=500), clock, Uuid7Factory())
    with pytest.raises(StorageUnavailable):
        await failing.import_notes(ALICE, [NoteDraft(f"n{i}") for i in range(1000)])
    assert await notes.list_notes(ALICE) == []


@pytest.mark.parametrize("count", [0, 1001])
async def test_an_import_holds_1_to_1000_notes(notes: Notes, count: int) -> None:
    with pytest.raises(InvalidImport, match="1 to 1000"):
        await notes.import_notes(ALICE, [NoteDraft("n")] * count)


async def test_an_import_retried_with_its_key_returns_the_same_notes(notes: Notes) -> None:
    drafts = [NoteDraft(f"n{i}") for i in range(3)]
    first = await notes.import_notes(ALICE, drafts, idempotency_key="imp")
    again = await notes.import_notes(ALICE, drafts, idempotency_key="imp")
    assert [n.id for n in again] == [n.id for n in first]
    assert len(await notes.list_notes(ALICE)) == 3


async def test_export_yields_every_note_oldest_first_in_pages(
    notes: Notes, clock: ManualClock
) -> None:
    made = []
    for i in range(7):
        made.append(await notes.create_note(ALICE, NoteDraft(f"n{i}")))
        clock.advance(timedelta(seconds=1))
    await notes.create_note(BOB, NoteDraft("not alice's"))
    pages = [page async for page in notes.export_notes(ALICE, page=3)]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [n.id for p in pages for n in p] == [n.id for n in made]
