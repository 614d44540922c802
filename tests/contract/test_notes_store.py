"""The contract every persistence adapter keeps: a note repository inside a unit of work.

Written once against the ports; the ``uow_factory`` fixture runs it on every backend.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import uuid4

import pytest

from application import Conflict, NoteFilter, UnitOfWorkFactory
from domain import Title
from domain.search import parse_query
from tests.support import ALICE, BOB, START, make_note


async def _committed(uow_factory: UnitOfWorkFactory, *notes: object) -> None:
    async with uow_factory() as uow:
        for note in notes:
            await uow.notes.add(note)  # type: ignore[arg-type]
        await uow.commit()


async def test_a_note_comes_back_exactly_as_stored(uow_factory: UnitOfWorkFactory) -> None:
    note = make_note(
        "Ünïcödé — 日本語 ✓",
        "multi\nline \u00a0 body " + "x" * 99_000,
        ("weekly", "home", "a-b_c"),
        created=START + timedelta(microseconds=123456),
    )
    note = note.edited(now=note.created_date + timedelta(seconds=3, microseconds=7))
    await _committed(uow_factory, note)
    async with uow_factory() as uow:
        loaded = await uow.notes.get(ALICE, note.id)
    assert loaded is not None
    assert loaded.id == note.id
    assert loaded.title == note.title
    assert loaded.description == note.description
    assert loaded.tags == note.tags
    assert loaded.created_date == note.created_date
    assert loaded.updated_date == note.updated_date
    assert loaded.created_date.utcoffset() == timedelta(0)
    assert loaded.version == note.version == 2


async def test_get_of_an_unknown_id_is_none(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.notes.get(ALICE, uuid4()) is None


async def test_uncommitted_writes_are_visible_only_inside_their_unit_of_work(
    uow_factory: UnitOfWorkFactory,
) -> None:
    note = make_note()
    async with uow_factory() as writer:
        await writer.notes.add(note)
        assert await writer.notes.get(ALICE, note.id) == note
        assert [n.id for n in await writer.notes.list(ALICE, limit=10)] == [note.id]
        async with uow_factory() as other:
            assert await other.notes.get(ALICE, note.id) is None
            assert await other.notes.list(ALICE, limit=10) == []
        await writer.commit()
    async with uow_factory() as reader:
        assert await reader.notes.get(ALICE, note.id) == note


async def test_leaving_without_commit_discards_everything(uow_factory: UnitOfWorkFactory) -> None:
    kept = make_note("kept")
    await _committed(uow_factory, kept)
    async with uow_factory() as uow:
        await uow.notes.add(make_note("dropped"))
        await uow.notes.update(kept.edited(now=START, title=Title("changed")), expected_version=1)
    async with uow_factory() as uow:
        assert [(n.title.value, n.version) for n in await uow.notes.list(ALICE, limit=10)] == [
            ("kept", 1)
        ]


async def test_rollback_discards_everything(uow_factory: UnitOfWorkFactory) -> None:
    kept = make_note("kept")
    await _committed(uow_factory, kept)
    async with uow_factory() as uow:
        await uow.notes.add(make_note("dropped"))
        assert await uow.notes.delete(ALICE, kept.id)
        await uow.rollback()
    async with uow_factory() as uow:
        assert [n.title.value for n in await uow.notes.list(ALICE, limit=10)] == ["kept"]


async def test_an_exception_inside_the_block_discards_everything(
    uow_factory: UnitOfWorkFactory,
) -> None:
    note = make_note()
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.notes.add(note)
            raise RuntimeError("the use case failed after writing")
    async with uow_factory() as uow:
        assert await uow.notes.get(ALICE, note.id) is None


async def test_several_writes_commit_together(uow_factory: UnitOfWorkFactory) -> None:
    first, second = make_note("first"), make_note("second")
    await _committed(uow_factory, first)
    async with uow_factory() as uow:
        await uow.notes.add(second)
        assert await uow.notes.delete(ALICE, first.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert [n.id for n in await uow.notes.list(ALICE, limit=10)] == [second.id]


async def test_adding_an_existing_id_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    note = make_note()
    await _committed(uow_factory, note)
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.notes.add(make_note("other", note_id=note.id))
            await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.notes.get(ALICE, note.id)
    assert stored is not None
    assert stored.title.value == "Groceries"


async def test_a_lone_add_left_without_commit_writes_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """An adapter may hold a lone write back until ``commit()``: leaving without it (or
    after ``rollback()``) still writes nothing, and the unit of work after it starts
    clean."""
    dropped, rolled_back, kept = make_note("dropped"), make_note("rolled back"), make_note("kept")
    async with uow_factory() as uow:
        await uow.notes.add(dropped)
    async with uow_factory() as uow:
        await uow.notes.add(rolled_back)
        await uow.rollback()
    await _committed(uow_factory, kept)
    async with uow_factory() as uow:
        assert [n.id for n in await uow.notes.list(ALICE, limit=10)] == [kept.id]


async def test_a_unit_of_work_reads_the_note_it_just_added(uow_factory: UnitOfWorkFactory) -> None:
    earlier = make_note("earlier", created=START)
    await _committed(uow_factory, earlier)
    note = make_note("Sourdough", "starter", ("baking",), created=START + timedelta(seconds=1))
    async with uow_factory() as uow:
        await uow.notes.add(note)
        found = await uow.notes.find(ALICE, NoteFilter(tags=("baking",)), "created_desc", limit=5)
        assert [ranked.note for ranked in found] == [note]
        searched = await uow.notes.find(
            ALICE, NoteFilter(search=parse_query("starter")), "relevance", limit=5
        )
        assert [ranked.note for ranked in searched] == [note]
        locked = await uow.notes.get(ALICE, note.id, for_update=True)
        assert locked is not None
        assert (locked.title, locked.tags, locked.version) == (note.title, note.tags, 1)
        await uow.commit()
    async with uow_factory() as uow:
        assert [n.id for n in await uow.notes.list(ALICE, limit=10)] == [note.id, earlier.id]


async def test_a_conflicting_add_fails_by_commit_at_the_latest_and_writes_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """Whether a broken rule shows at ``add`` or at ``commit()``, it is ``Conflict``, and
    nothing of the unit of work is written; a read after the add reports it too."""
    note = make_note()
    await _committed(uow_factory, note)
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.notes.add(make_note("again", note_id=note.id))
            await uow.notes.get(ALICE, note.id)
            await uow.commit()
    other = make_note("other")
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.notes.add(other)
            await uow.notes.add(make_note("again", note_id=note.id))
            await uow.commit()
    async with uow_factory() as uow:
        assert [n.title.value for n in await uow.notes.list(ALICE, limit=10)] == ["Groceries"]


async def test_list_is_newest_first_with_id_breaking_ties(uow_factory: UnitOfWorkFactory) -> None:
    same_moment = [make_note(f"tie{i}", created=START + timedelta(seconds=1)) for i in range(3)]
    older = make_note("older", created=START)
    newer = make_note("newer", created=START + timedelta(seconds=2))
    await _committed(uow_factory, older, *same_moment, newer)
    expected = [newer.id, *sorted((n.id for n in same_moment), reverse=True), older.id]
    async with uow_factory() as uow:
        assert [n.id for n in await uow.notes.list(ALICE, limit=10)] == expected
        assert [n.id for n in await uow.notes.list(ALICE, limit=2, skip=2)] == expected[2:4]
        assert await uow.notes.list(ALICE, limit=5, skip=5) == []


async def test_update_applies_only_from_the_expected_version(
    uow_factory: UnitOfWorkFactory,
) -> None:
    note = make_note()
    await _committed(uow_factory, note)
    v2 = note.edited(now=START + timedelta(seconds=1), title=Title("v2"))
    async with uow_factory() as uow:
        assert not await uow.notes.update(v2, expected_version=2)
        assert await uow.notes.update(v2, expected_version=1)
        assert not await uow.notes.update(v2.edited(now=START), expected_version=1)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.notes.get(ALICE, note.id)
        assert not await uow.notes.update(make_note(), expected_version=1)
    assert stored is not None
    assert (stored.title.value, stored.version) == ("v2", 2)


async def test_update_and_commit_commits_the_edit_and_its_event_or_writes_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    note = make_note()
    await _committed(uow_factory, note)
    v2 = note.edited(now=START + timedelta(seconds=1), title=Title("v2"))
    stale = note.edited(now=START + timedelta(seconds=2), title=Title("stale"))
    async with uow_factory() as uow:
        assert (await uow.notes.get(ALICE, note.id)) == note
        await uow.events.append(ALICE, note.id, "updated", v2.version, v2.updated_date)
        assert await uow.notes.update_and_commit(v2, expected_version=1)
    async with uow_factory() as uow:
        assert (await uow.notes.get(ALICE, note.id)) == v2
        await uow.events.append(ALICE, note.id, "updated", stale.version, stale.updated_date)
        assert not await uow.notes.update_and_commit(stale, expected_version=1)
    async with uow_factory() as uow:
        assert (await uow.notes.get(ALICE, note.id)) == v2
        assert [r.version for r in await uow.revisions.list(ALICE, note.id, limit=10)] == [2, 1]
        assert [(e.version, e.kind) for e in await uow.events.after(ALICE, 0, limit=10)] == [
            (2, "updated")
        ]


async def test_delete_is_conditional_when_a_version_is_given(
    uow_factory: UnitOfWorkFactory,
) -> None:
    note = make_note()
    await _committed(uow_factory, note)
    async with uow_factory() as uow:
        assert not await uow.notes.delete(ALICE, note.id, expected_version=2)
        assert await uow.notes.delete(ALICE, note.id, expected_version=1)
        assert await uow.notes.get(ALICE, note.id) is None
        assert not await uow.notes.delete(ALICE, note.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.notes.get(ALICE, note.id) is None
        assert not await uow.notes.delete(ALICE, uuid4())


async def test_of_two_concurrent_updates_from_one_version_only_the_first_applies(
    uow_factory: UnitOfWorkFactory,
) -> None:
    note = make_note()
    await _committed(uow_factory, note)
    first = note.edited(now=START + timedelta(seconds=1), title=Title("first"))
    second = note.edited(now=START + timedelta(seconds=2), title=Title("second"))
    async with uow_factory() as winner:
        assert await winner.notes.update(first, expected_version=1)

        async def compete() -> bool:
            async with uow_factory() as loser:
                applied = await loser.notes.update(second, expected_version=1)
                await loser.commit()
                return applied

        contender = asyncio.create_task(compete())
        await asyncio.sleep(0.05)
        # The second writer waits on the first one's row lock rather than overwriting it.
        assert not contender.done()
        await winner.commit()
    assert await contender is False
    async with uow_factory() as uow:
        stored = await uow.notes.get(ALICE, note.id)
    assert stored is not None
    assert (stored.title.value, stored.version) == ("first", 2)


async def test_a_rolled_back_writer_lets_the_waiting_one_through(
    uow_factory: UnitOfWorkFactory,
) -> None:
    note = make_note()
    await _committed(uow_factory, note)
    second = note.edited(now=START + timedelta(seconds=2), title=Title("second"))
    async with uow_factory() as first:
        assert await first.notes.delete(ALICE, note.id)

        async def compete() -> bool:
            async with uow_factory() as other:
                applied = await other.notes.update(second, expected_version=1)
                await other.commit()
                return applied

        contender = asyncio.create_task(compete())
        await asyncio.sleep(0.05)
        assert not contender.done()
        await first.rollback()
    assert await contender is True
    async with uow_factory() as uow:
        stored = await uow.notes.get(ALICE, note.id)
    assert stored is not None
    assert stored.title.value == "second"


async def test_reads_do_not_see_another_units_uncommitted_update_or_delete(
    uow_factory: UnitOfWorkFactory,
) -> None:
    a, b = make_note("a"), make_note("b")
    await _committed(uow_factory, a, b)
    async with uow_factory() as writer:
        assert await writer.notes.update(a.edited(now=START, title=Title("a2")), expected_version=1)
        assert await writer.notes.delete(ALICE, b.id)
        async with uow_factory() as reader:
            seen_a = await reader.notes.get(ALICE, a.id)
            assert seen_a is not None
            assert seen_a.title.value == "a"
            assert await reader.notes.get(ALICE, b.id) is not None
        await writer.commit()


async def test_a_read_for_update_makes_other_writers_wait_and_then_see_the_outcome(
    uow_factory: UnitOfWorkFactory,
) -> None:
    note = make_note()
    await _committed(uow_factory, note)
    async with uow_factory() as first:
        locked = await first.notes.get(ALICE, note.id, for_update=True)
        assert locked is not None

        async def follow() -> int | None:
            async with uow_factory() as second:
                seen = await second.notes.get(ALICE, note.id, for_update=True)
                return None if seen is None else seen.version

        follower = asyncio.create_task(follow())
        await asyncio.sleep(0.05)
        assert not follower.done()
        assert await first.notes.update(locked.edited(now=START), expected_version=1)
        await first.commit()
    assert await follower == 2


async def test_a_note_is_invisible_to_every_other_owner(uow_factory: UnitOfWorkFactory) -> None:
    alices = make_note("alice's", owner_id=ALICE)
    bobs = make_note("bob's", owner_id=BOB)
    await _committed(uow_factory, alices, bobs)
    async with uow_factory() as uow:
        assert await uow.notes.get(BOB, alices.id) is None
        assert await uow.notes.get(BOB, alices.id, for_update=True) is None
        assert [n.id for n in await uow.notes.list(BOB, limit=10)] == [bobs.id]
        assert [n.id for n in await uow.notes.list(ALICE, limit=10)] == [alices.id]
        assert not await uow.notes.delete(BOB, alices.id)
        hijacked = make_note("hijacked", note_id=alices.id, owner_id=BOB)
        assert not await uow.notes.update(hijacked, expected_version=1)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.notes.get(ALICE, alices.id)
    assert stored is not None
    assert (stored.title.value, stored.owner_id, stored.version) == ("alice's", ALICE, 1)
