"""The notes use cases on the in-memory adapter."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self
from uuid import uuid4

import pytest

from adapters.memory import MemoryDatabase, MemoryUnitOfWork
from adapters.system import Uuid7Factory
from application import (
    NoteChanges,
    NoteDraft,
    NoteNotFound,
    Notes,
    PreconditionFailed,
    StorageUnavailable,
    VersionRequired,
)
from domain import InvalidDescription, InvalidTags, InvalidTitle, Note
from tests.support import ALICE, BOB, SteppingClock


@pytest.fixture
def database() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def notes(database: MemoryDatabase) -> Notes:
    return Notes(database.unit_of_work, SteppingClock(), Uuid7Factory())


async def test_create_then_get(notes: Notes) -> None:
    created = await notes.create_note(ALICE, NoteDraft(" Groceries ", "milk", ["Home", "home"]))
    assert (created.title.value, created.description.value, created.tags.values) == (
        "Groceries",
        "milk",
        ("home",),
    )
    assert created.version == 1
    assert await notes.get_note(ALICE, created.id) == created


async def test_get_unknown_is_not_found(notes: Notes) -> None:
    with pytest.raises(NoteNotFound):
        await notes.get_note(ALICE, uuid4())


async def test_list_is_newest_first_with_limit_and_skip(notes: Notes) -> None:
    made = [await notes.create_note(ALICE, NoteDraft(f"n{i}")) for i in range(5)]
    newest_first = list(reversed(made))
    assert await notes.list_notes(ALICE) == newest_first
    assert [n.id for n in await notes.list_notes(ALICE, limit=2, skip=1)] == [
        n.id for n in newest_first[1:3]
    ]
    assert await notes.list_notes(ALICE, limit=10, skip=5) == []


async def test_replace_sets_every_field_and_bumps_version(notes: Notes) -> None:
    note = await notes.create_note(ALICE, NoteDraft("a", "b", ["x"]))
    replaced = await notes.replace_note(ALICE, note.id, NoteDraft("c"))
    assert (replaced.title.value, replaced.description.value, replaced.tags.values) == ("c", "", ())
    assert replaced.version == 2
    assert replaced.updated_date > note.updated_date
    assert replaced.created_date == note.created_date
    assert (await notes.get_note(ALICE, note.id)).version == 2


async def test_patch_changes_only_the_fields_given(notes: Notes) -> None:
    note = await notes.create_note(ALICE, NoteDraft("a", "b", ["x"]))
    patched = await notes.patch_note(ALICE, note.id, NoteChanges(description=""))
    assert (patched.title.value, patched.description.value, patched.tags.values) == (
        "a",
        "",
        ("x",),
    )
    assert patched.version == 2


async def test_delete_then_not_found(notes: Notes) -> None:
    note = await notes.create_note(ALICE, NoteDraft("a"))
    await notes.delete_note(ALICE, note.id)
    with pytest.raises(NoteNotFound):
        await notes.get_note(ALICE, note.id)
    with pytest.raises(NoteNotFound):
        await notes.delete_note(ALICE, note.id)


@pytest.mark.parametrize(
    ("draft", "error"),
    [
        (NoteDraft(" "), InvalidTitle),
        (NoteDraft("t", "d" * 100_001), InvalidDescription),
        (NoteDraft("t", tags=["no spaces"]), InvalidTags),
    ],
)
async def test_invalid_input_writes_nothing(
    notes: Notes, draft: NoteDraft, error: type[Exception]
) -> None:
    kept = await notes.create_note(ALICE, NoteDraft("kept"))
    with pytest.raises(error):
        await notes.create_note(ALICE, draft)
    with pytest.raises(error):
        await notes.replace_note(ALICE, kept.id, draft)
    assert await notes.list_notes(ALICE) == [kept]
    assert (await notes.get_note(ALICE, kept.id)).version == 1


async def test_missing_note_is_not_found_for_every_write(notes: Notes) -> None:
    missing = uuid4()
    with pytest.raises(NoteNotFound):
        await notes.replace_note(ALICE, missing, NoteDraft("t"))
    with pytest.raises(NoteNotFound):
        await notes.patch_note(ALICE, missing, NoteChanges(title="t"))


class _CommitFails(MemoryUnitOfWork):
    """A unit of work whose storage fails at the last moment, after every write went through."""

    async def commit(self) -> None:
        raise StorageUnavailable("connection lost during commit")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()


async def test_a_use_case_that_fails_after_writing_leaves_nothing_behind(
    database: MemoryDatabase,
) -> None:
    healthy = Notes(database.unit_of_work, SteppingClock(), Uuid7Factory())
    note = await healthy.create_note(ALICE, NoteDraft("original", "body", ["keep"]))
    failing = Notes(lambda: _CommitFails(database), SteppingClock(), Uuid7Factory())

    with pytest.raises(StorageUnavailable):
        await failing.create_note(ALICE, NoteDraft("never stored"))
    with pytest.raises(StorageUnavailable):
        await failing.patch_note(ALICE, note.id, NoteChanges(title="changed"))
    with pytest.raises(StorageUnavailable):
        await failing.delete_note(ALICE, note.id)

    stored = await healthy.list_notes(ALICE)
    assert stored == [note]
    assert (stored[0].title.value, stored[0].version) == ("original", 1)


async def test_stale_version_is_refused_and_changes_nothing(notes: Notes) -> None:
    note = await notes.create_note(ALICE, NoteDraft("a"))
    await notes.patch_note(ALICE, note.id, NoteChanges(title="b"), if_version=1)
    with pytest.raises(PreconditionFailed) as caught:
        await notes.patch_note(ALICE, note.id, NoteChanges(title="c"), if_version=1)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    with pytest.raises(PreconditionFailed):
        await notes.delete_note(ALICE, note.id, if_version=1)
    current = await notes.get_note(ALICE, note.id)
    assert (current.title.value, current.version) == ("b", 2)


async def test_concurrent_conditional_writes_from_one_version_let_exactly_one_through(
    notes: Notes,
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("a"))
    results = await asyncio.gather(
        *(
            notes.patch_note(ALICE, note.id, NoteChanges(title=f"t{i}"), if_version=1)
            for i in range(20)
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, PreconditionFailed) for r in results if isinstance(r, Exception))
    assert (await notes.get_note(ALICE, note.id)).version == 2


async def test_concurrent_unconditional_writes_are_never_lost(notes: Notes) -> None:
    note = await notes.create_note(ALICE, NoteDraft("a"))
    await asyncio.gather(
        *(notes.patch_note(ALICE, note.id, NoteChanges(tags=[f"t{i}"])) for i in range(20))
    )
    assert (await notes.get_note(ALICE, note.id)).version == 21


async def test_an_edit_that_loses_a_race_is_made_again_on_the_newer_version(
    database: MemoryDatabase,
) -> None:
    """Another writer changes the note between an edit's read and its write: the edit is
    applied once more, to the newer version, and neither change is lost."""
    clock = SteppingClock()
    notes = Notes(database.unit_of_work, clock, Uuid7Factory())
    note = await notes.create_note(ALICE, NoteDraft("a", "theirs?"))
    raced = 0

    class _Raced(MemoryUnitOfWork):
        def __init__(self) -> None:
            super().__init__(database)
            update_and_commit = self.notes.update_and_commit

            async def racing(new: Note, **versions: int) -> bool:
                nonlocal raced
                if raced == 0:
                    raced += 1
                    await notes.patch_note(ALICE, note.id, NoteChanges(description="theirs"))
                return await update_and_commit(new, **versions)

            self.notes.update_and_commit = racing  # type: ignore[method-assign]

    racing_notes = Notes(_Raced, clock, Uuid7Factory())
    edited = await racing_notes.patch_note(ALICE, note.id, NoteChanges(title="mine"))
    assert raced == 1
    assert (edited.title.value, edited.description.value, edited.version) == ("mine", "theirs", 3)
    assert await notes.get_note(ALICE, note.id) == edited
    with pytest.raises(PreconditionFailed):
        raced = 0
        await racing_notes.patch_note(ALICE, note.id, NoteChanges(title="late"), if_version=3)
    assert (await notes.get_note(ALICE, note.id)).version == 4


async def test_every_use_case_sees_only_the_callers_notes(notes: Notes) -> None:
    alices = await notes.create_note(ALICE, NoteDraft("alice's"))
    bobs = await notes.create_note(BOB, NoteDraft("bob's"))
    assert await notes.list_notes(BOB) == [bobs]
    for attempt in (
        notes.get_note(BOB, alices.id),
        notes.replace_note(BOB, alices.id, NoteDraft("taken")),
        notes.patch_note(BOB, alices.id, NoteChanges(title="taken")),
        notes.delete_note(BOB, alices.id),
    ):
        with pytest.raises(NoteNotFound):
            await attempt
    kept = await notes.get_note(ALICE, alices.id)
    assert (kept.title.value, kept.version) == ("alice's", 1)


async def test_when_versions_are_required_every_write_must_name_one(
    database: MemoryDatabase,
) -> None:
    strict = Notes(database.unit_of_work, SteppingClock(), Uuid7Factory(), require_version=True)
    note = await strict.create_note(ALICE, NoteDraft("a"))
    for attempt in (
        strict.replace_note(ALICE, note.id, NoteDraft("b")),
        strict.patch_note(ALICE, note.id, NoteChanges(title="b")),
        strict.delete_note(ALICE, note.id),
    ):
        with pytest.raises(VersionRequired):
            await attempt
    assert (await strict.get_note(ALICE, note.id)).version == 1
    patched = await strict.patch_note(ALICE, note.id, NoteChanges(title="b"), if_version=1)
    assert patched.version == 2
