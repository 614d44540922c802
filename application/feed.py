"""The change feed: a client keeps a copy of its notes in sync by following the event log.

A client without a position starts with a snapshot: the owner's current notes, a page at a
time (oldest first, by keyset), taken after noting the log's last number; then it follows
the log from that number. So it sees every note, also those whose events were pruned or made
before the log existed, and every change committed after the snapshot began.

Following the log, an answer reads a page of events and gives each note they name once, in
its state when the answer is made: the note as it is now, or a tombstone if it is gone (in
the trash or deleted for good). The log numbers events per owner in commit order
(``application.events``), so the position after a page never skips a change that commits
later. A position older than the feed's retention, or one whose next events were pruned, is
``ResyncRequired``: start again without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID

from application.errors import ApplicationError
from application.finding import NoteFilter, Position
from application.ports import Clock, UnitOfWorkFactory
from domain import Note

__all__ = [
    "DEFAULT_FEED_RETENTION",
    "MAX_CHANGES",
    "Change",
    "ChangePage",
    "Feed",
    "FeedPosition",
    "ResyncRequired",
]

MAX_CHANGES: Final = 1000
DEFAULT_FEED_RETENTION: Final = timedelta(days=90)
_EVERY_NOTE: Final = NoteFilter()


class ResyncRequired(ApplicationError):
    """The position is older than what the log keeps: start again without one."""


@dataclass(frozen=True, slots=True)
class FeedPosition:
    """Where a client is: every event up to ``seq`` is reflected in what it was given;
    ``snapshot`` is the last note of the snapshot given so far while the snapshot is not
    finished (``None`` once it is); ``issued`` is when the answer that gave it was made."""

    seq: int
    issued: datetime
    snapshot: Position | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """A note's latest state: ``note`` as it is now, or ``None`` when it is gone
    (``version`` then is its last one)."""

    note_id: UUID
    version: int
    note: Note | None
    changed_date: datetime

    @property
    def deleted(self) -> bool:
        return self.note is None


@dataclass(frozen=True, slots=True)
class ChangePage:
    """One answer: at most one change per note, the position to ask from next, and whether
    more changes were already waiting."""

    changes: list[Change]
    position: FeedPosition
    more: bool


def _upsert(note: Note) -> Change:
    return Change(note.id, note.version, note, note.updated_date)


class Feed:
    """``changes(owner, since, limit=…)``: the next page of the owner's change feed."""

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, *, retention: timedelta = DEFAULT_FEED_RETENTION
    ) -> None:
        if retention <= timedelta(0):
            raise ValueError("the feed's retention must be positive")
        self._uow = uow
        self._clock = clock
        self._retention = retention

    async def changes(
        self, owner_id: UUID, since: FeedPosition | None, *, limit: int = 500
    ) -> ChangePage:
        """The changes after ``since`` (from the start, with a snapshot, when ``None``); at
        most ``limit`` (1 to ``MAX_CHANGES``)."""
        if not 1 <= limit <= MAX_CHANGES:
            raise ValueError(f"limit must be 1 to {MAX_CHANGES}")
        now = self._clock.now()
        if since is None:
            async with self._uow() as uow:
                last = await uow.events.last(owner_id)
            return await self._snapshot(owner_id, last, None, limit, now)
        if since.issued < now - self._retention:
            raise ResyncRequired("this cursor is older than the feed's retention")
        if since.snapshot is not None:
            return await self._snapshot(owner_id, since.seq, since.snapshot, limit, now)
        return await self._follow(owner_id, since.seq, limit, now)

    async def _snapshot(
        self, owner_id: UUID, seq: int, after: Position | None, limit: int, now: datetime
    ) -> ChangePage:
        async with self._uow() as uow:
            found = await uow.notes.find(
                owner_id, _EVERY_NOTE, "created_asc", limit=limit + 1, after=after
            )
        page = found[:limit]
        if len(found) > limit:
            last = page[-1].position("created_asc")
            return ChangePage(
                [_upsert(r.note) for r in page], FeedPosition(seq, now, last), more=True
            )
        async with self._uow() as uow:
            waiting = await uow.events.after(owner_id, seq, limit=1)
        return ChangePage(
            [_upsert(r.note) for r in page], FeedPosition(seq, now), more=bool(waiting)
        )

    async def _follow(self, owner_id: UUID, seq: int, limit: int, now: datetime) -> ChangePage:
        async with self._uow() as uow:
            events = await uow.events.after(owner_id, seq, limit=limit + 1)
            if not events or events[0].seq != seq + 1:
                # Pruned past the position? (Numbers are contiguous: a rolled-back write
                # spends none.)
                oldest = await uow.events.oldest_kept(owner_id)
                if (oldest is not None and oldest > seq + 1) or (
                    oldest is None and await uow.events.last(owner_id) > seq
                ):
                    raise ResyncRequired("changes after this cursor are no longer kept")
        more = len(events) > limit
        events = events[:limit]
        if not events:
            return ChangePage([], FeedPosition(seq, now), more=False)
        latest = {event.note_id: event for event in events}
        # Each note once, where its latest event of the page puts it.
        ordered = sorted(latest.values(), key=lambda event: event.seq)
        async with self._uow() as uow:
            current = {
                note.id: note
                for note in await uow.notes.get_many(owner_id, [e.note_id for e in ordered])
            }
        changes = [
            _upsert(current[e.note_id])
            if e.note_id in current
            else Change(e.note_id, e.version, None, e.at)
            for e in ordered
        ]
        return ChangePage(changes, FeedPosition(events[-1].seq, now), more=more)
