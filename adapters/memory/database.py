"""The in-memory database, its unit of work and its note repository."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self
from uuid import UUID

from application.errors import Conflict
from domain import Note

__all__ = ["MemoryDatabase", "MemoryNoteRepository", "MemoryUnitOfWork"]

_DELETED = None


async def _io() -> None:
    """Give other tasks a turn, as a call to a real database would, so that concurrent
    units of work interleave here as they do on a server."""
    await asyncio.sleep(0)


class MemoryDatabase:
    """The committed state, shared by every unit of work made from it.

    ``MemoryDatabase()`` is one empty database; calling it like a factory
    (``database.unit_of_work()``) gives a new unit of work. Writers take a lock on every row
    they touch and keep it until they commit or roll back, as PostgreSQL does, so a second
    writer to the same note waits and then sees the first one's outcome.
    """

    def __init__(self) -> None:
        self.notes: dict[UUID, Note] = {}
        self._row_locks: dict[UUID, asyncio.Future[None]] = {}

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)

    async def _lock_row(self, key: UUID, held: set[UUID]) -> None:
        if key in held:
            return
        while (holder := self._row_locks.get(key)) is not None:
            await asyncio.shield(holder)
        self._row_locks[key] = asyncio.get_running_loop().create_future()
        held.add(key)

    def _unlock_rows(self, held: set[UUID]) -> None:
        for key in held:
            future = self._row_locks.pop(key, None)
            if future is not None and not future.done():
                future.set_result(None)
        held.clear()


class MemoryUnitOfWork:
    """One transaction over a ``MemoryDatabase``: writes are buffered until ``commit()``."""

    notes: MemoryNoteRepository

    def __init__(self, database: MemoryDatabase) -> None:
        self._database = database
        self._writes: dict[UUID, Note | None] = {}
        self._locked: set[UUID] = set()
        self.notes = MemoryNoteRepository(database, self._writes, self._locked)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        committed = self._database.notes
        for key, note in self._writes.items():
            if note is _DELETED:
                committed.pop(key, None)
            else:
                committed[key] = note
        self._writes.clear()
        self._database._unlock_rows(self._locked)

    async def rollback(self) -> None:
        self._writes.clear()
        self._database._unlock_rows(self._locked)


class MemoryNoteRepository:
    """Notes as one unit of work sees them: committed state overlaid with its own writes."""

    def __init__(
        self, database: MemoryDatabase, writes: dict[UUID, Note | None], locked: set[UUID]
    ) -> None:
        self._database = database
        self._writes = writes
        self._locked = locked

    def _visible(self, note_id: UUID) -> Note | None:
        if note_id in self._writes:
            return self._writes[note_id]
        return self._database.notes.get(note_id)

    async def add(self, note: Note) -> None:
        await _io()
        await self._database._lock_row(note.id, self._locked)
        if self._visible(note.id) is not None:
            raise Conflict(f"a note with id {note.id} exists")
        self._writes[note.id] = note

    async def get(self, note_id: UUID, *, for_update: bool = False) -> Note | None:
        await _io()
        if for_update:
            await self._database._lock_row(note_id, self._locked)
        return self._visible(note_id)

    async def list(self, *, limit: int, skip: int = 0) -> list[Note]:
        await _io()
        merged = {**self._database.notes, **self._writes}
        notes = [note for note in merged.values() if note is not None]
        notes.sort(key=lambda note: (note.created_date, note.id), reverse=True)
        return notes[skip : skip + limit]

    async def update(self, note: Note, *, expected_version: int) -> bool:
        await _io()
        await self._database._lock_row(note.id, self._locked)
        current = self._visible(note.id)
        if current is None or current.version != expected_version:
            return False
        self._writes[note.id] = note
        return True

    async def delete(self, note_id: UUID, *, expected_version: int | None = None) -> bool:
        await _io()
        await self._database._lock_row(note_id, self._locked)
        current = self._visible(note_id)
        if current is None or (
            expected_version is not None and current.version != expected_version
        ):
            return False
        self._writes[note_id] = _DELETED
        return True
