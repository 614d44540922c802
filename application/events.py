"""The note event log (issue #18): every change to a note, per owner, in commit order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

__all__ = ["EventKind", "EventLog", "NoteEvent"]

EventKind = Literal["created", "updated", "restored", "deleted", "purged"]


@dataclass(frozen=True, slots=True)
class NoteEvent:
    owner_id: UUID
    seq: int
    note_id: UUID
    kind: EventKind
    version: int
    at: datetime


class EventLog(Protocol):
    async def append(
        self, owner_id: UUID, note_id: UUID, kind: EventKind, version: int, at: datetime
    ) -> None: ...

    async def after(self, owner_id: UUID, seq: int, *, limit: int) -> list[NoteEvent]: ...

    async def oldest_kept(self, owner_id: UUID) -> int | None: ...

    async def prune(self, before: datetime) -> int: ...
