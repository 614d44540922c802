"""The event log: every change to a note, recorded in the unit of work that makes it.

The change feed and the webhooks are two readers of this one log. Events are numbered per
owner (``seq``), and the numbers are handed out in commit order: a reader that has read number
N never later finds a lower number committing. An adapter may take the number when the event
is written and keep the owner's counter locked until the unit of work ends (a second writer
for the same owner then waits), or take it while the unit of work commits. Writers of
different owners do not wait for each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, Protocol, get_args
from uuid import UUID

__all__ = ["EVENT_KINDS", "EventHead", "EventKind", "EventLog", "NoteEvent"]

EventKind = Literal["created", "updated", "restored", "deleted", "purged"]
"""``deleted``: moved to the trash; ``purged``: deleted for good (from the trash, or by the
sweep)."""

EVENT_KINDS: Final[tuple[EventKind, ...]] = get_args(EventKind)


@dataclass(frozen=True, slots=True)
class NoteEvent:
    """One change to one note."""

    owner_id: UUID
    seq: int
    """Per owner; strictly increasing in commit order."""
    note_id: UUID
    kind: EventKind
    version: int
    """The note's version after the change (for ``deleted``/``purged``: its last one)."""
    at: datetime
    """When it changed (the change's own timestamp)."""


@dataclass(frozen=True, slots=True)
class EventHead:
    """The highest ``seq`` handed out to an owner (pruned events included): the next event
    gets the one after it."""

    owner_id: UUID
    seq: int


class EventLog(Protocol):
    """The owners' event logs, handed out by the unit of work as ``uow.events``."""

    async def append(
        self, owner_id: UUID, note_id: UUID, kind: EventKind, version: int, at: datetime
    ) -> None:
        """Record the event in this unit of work; the storage assigns its ``seq`` (an
        adapter may send it together with the change's own statement)."""
        ...

    async def after(self, owner_id: UUID, seq: int, *, limit: int) -> list[NoteEvent]:
        """The owner's events with ``seq`` greater than ``seq``, ascending, at most
        ``limit``."""
        ...

    async def oldest_kept(self, owner_id: UUID) -> int | None:
        """The lowest ``seq`` of the owner's still kept; ``None`` if none is."""
        ...

    async def last(self, owner_id: UUID) -> int:
        """The highest ``seq`` handed out to the owner and committed (0 if none), pruned
        events included."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forget every owner's events that happened before ``before``; how many. A
        maintenance sweep across owners, not a request."""
        ...
