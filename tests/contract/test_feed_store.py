"""The change feed on every backend: slow and fast writers interleave (real concurrent
transactions on the SQL backends) while a reader follows the feed; the reader ends with
exactly the final state of every note."""

from __future__ import annotations

import asyncio
import random
from types import TracebackType
from typing import Any, Self

from adapters.system import Uuid7Factory
from application import NoteChanges, NoteDraft, NoteNotFound, Notes, UnitOfWorkFactory
from application.feed import Feed, FeedPosition
from application.revisions import Trash
from tests.support import ALICE, BOB, SteppingClock


class _SlowCommit:
    """A unit of work that waits before committing: it holds what it locked meanwhile."""

    def __init__(self, uow: Any, delay: float) -> None:
        self._uow = uow
        self._delay = delay

    async def __aenter__(self) -> Self:
        await self._uow.__aenter__()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._uow.__aexit__(kind, exc, tb)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    async def commit(self) -> None:
        await asyncio.sleep(self._delay)
        await self._uow.commit()


async def test_a_reader_following_interleaved_writers_ends_with_the_final_state(
    uow_factory: UnitOfWorkFactory,
) -> None:
    randomness = random.Random(18)
    clock = SteppingClock()
    fast = Notes(uow_factory, clock, Uuid7Factory())
    slow_factory: Any = lambda: _SlowCommit(uow_factory(), randomness.uniform(0.005, 0.03))  # noqa: E731
    slow = Notes(slow_factory, clock, Uuid7Factory())
    trash = Trash(uow_factory, clock)
    feed = Feed(uow_factory, clock)
    seeded = [await fast.create_note(ALICE, NoteDraft(f"seed {i}")) for i in range(6)]
    ids = [note.id for note in seeded]

    async def writer(notes: Notes, turns: int) -> None:
        for turn in range(turns):
            choice = randomness.random()
            try:
                if choice < 0.25:
                    created = await notes.create_note(ALICE, NoteDraft(f"new {turn}"))
                    ids.append(created.id)
                elif choice < 0.7:
                    title = f"edit {turn} {randomness.random():.6f}"
                    await notes.patch_note(ALICE, randomness.choice(ids), NoteChanges(title=title))
                elif choice < 0.85:
                    await notes.delete_note(ALICE, randomness.choice(ids))
                else:
                    await trash.restore(ALICE, randomness.choice(ids))
            except NoteNotFound:
                pass
            await notes.create_note(BOB, NoteDraft("another owner's")) if turn % 5 == 0 else None

    copy: dict[Any, tuple[int, str]] = {}
    position: FeedPosition | None = None

    async def follow_once() -> bool:
        nonlocal position
        page = await feed.changes(ALICE, position, limit=4)
        assert len({change.note_id for change in page.changes}) == len(page.changes)
        for change in page.changes:
            if change.note is None:
                copy.pop(change.note_id, None)
            else:
                copy[change.note_id] = (change.note.version, change.note.title.value)
        position = page.position
        return page.more

    writers = asyncio.gather(writer(slow, 12), writer(slow, 12), writer(fast, 20), writer(fast, 20))
    while not writers.done():
        await follow_once()
        await asyncio.sleep(0.001)
    await writers
    while await follow_once():
        pass
    final = await fast.list_notes(ALICE, limit=1000)
    assert copy == {note.id: (note.version, note.title.value) for note in final}
