"""The ports: what the use cases need from the outside world, as small protocols.

Adapters implement these; the application never imports an adapter. Every repository method
runs inside the unit of work that handed the repository out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from domain import Note

__all__ = ["Clock", "IdFactory", "NoteRepository", "UnitOfWork", "UnitOfWorkFactory"]


class NoteRepository(Protocol):
    """The stored notes, as seen from inside one unit of work.

    Reads see what was committed before them plus this unit of work's own writes, and
    never another unit of work's uncommitted writes. Writes take effect for others only
    when the unit of work commits. Adapters raise ``StorageUnavailable`` when the storage
    cannot be reached and ``Conflict`` when a write breaks a uniqueness rule; they raise
    nothing driver-specific.
    """

    async def add(self, note: Note) -> None:
        """Store a new note. ``Conflict`` if a note with its id exists."""
        ...

    async def get(self, note_id: UUID, *, for_update: bool = False) -> Note | None:
        """The note with this id, or ``None``.

        With ``for_update`` the note is locked until this unit of work ends: another unit
        of work that reads it for update, updates or deletes it waits until then, and then
        sees this one's outcome (``SELECT … FOR UPDATE``).
        """
        ...

    async def list(self, *, limit: int, skip: int = 0) -> list[Note]:
        """At most ``limit`` notes after the first ``skip``, newest first
        (``created_date`` descending, then ``id`` descending)."""
        ...

    async def update(self, note: Note, *, expected_version: int) -> bool:
        """Replace the stored note that has ``note.id`` with ``note``, but only if the stored
        one is at ``expected_version``; ``True`` if it was replaced.

        The check and the write are one atomic step: of several units of work that update
        the same note from the same version, exactly one succeeds; the others get ``False``
        (after the winner commits, if it is still open).
        """
        ...

    async def delete(self, note_id: UUID, *, expected_version: int | None = None) -> bool:
        """Delete the note, only if it is at ``expected_version`` when one is given;
        ``True`` if a note was deleted. Atomic in the same way as ``update``."""
        ...


class UnitOfWork(Protocol):
    """One transaction: an async context manager that hands out repositories.

    Nothing written through it is visible to other units of work until ``commit()``.
    Leaving the ``async with`` block without ``commit()`` (an exception included) rolls
    everything back. A unit of work is used once.
    """

    notes: NoteRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None:
        """Make every write of this unit of work durable and visible, all at once."""
        ...

    async def rollback(self) -> None:
        """Discard every write of this unit of work."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
"""Makes a new, not yet entered, unit of work."""


class Clock(Protocol):
    """The current time."""

    def now(self) -> datetime:
        """Now, as a timezone-aware UTC datetime."""
        ...


class IdFactory(Protocol):
    """New identifiers."""

    def new_id(self) -> UUID:
        """A new, unique, time-ordered id: ids made later sort later."""
        ...
