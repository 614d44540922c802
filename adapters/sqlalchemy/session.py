"""What a repository needs of the unit of work it works in: a way to run statements.

The repositories depend on this protocol, not on the unit of work, so the unit of work can
import them without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa

__all__ = ["Session"]


class Session(Protocol):
    """Statements run in one unit of work's connection and transaction."""

    @property
    def dialect(self) -> str:
        """The database's dialect name: ``postgresql``, ``sqlite`` or ``mysql``."""
        ...

    async def execute(
        self,
        statement: sa.Executable,
        parameters: Sequence[dict[str, Any]] | dict[str, Any] | None = None,
        *,
        write: bool,
    ) -> sa.CursorResult[Any]:
        """Run one statement in the transaction (``write``: it changes or locks rows)."""
        ...

    async def fetch_one(
        self, statement: sa.Select[Any], parameters: dict[str, Any]
    ) -> Mapping[Any, Any] | None:
        """The first row a read built once with named bind parameters finds, or None."""
        ...

    async def fetch_all(
        self, statement: sa.Select[Any], parameters: dict[str, Any]
    ) -> Sequence[Mapping[Any, Any]]:
        """Every row such a read finds."""
        ...

    async def insert_note(self, row: dict[str, Any]) -> None:
        """Insert the row of one note."""
        ...

    def append_event(self, event: dict[str, Any]) -> None:
        """Hold an event (``events.event_row``) back until the next statement or the commit,
        so that a write may take it along (``take_event``)."""
        ...

    def take_event(self, owner_id: Any, note_id: Any) -> dict[str, Any] | None:
        """The event held back, if it is the only one and is about this note: the caller's
        next statement records it (``events.with_event``)."""
        ...

    async def commit(self) -> None:
        """Commit the unit of work."""
        ...

    async def end_reads(self) -> None:
        """End the transaction if it has only read so far, so that the next write begins
        one of its own (SQLite cannot always turn a reading transaction into a writing
        one: another writer may have committed since it read)."""
        ...

    def can_write_alone(self, owner_id: Any, note_id: Any) -> bool:
        """Whether a write of this note may be sent as a statement that commits by itself
        (``write_alone``): on PostgreSQL, with no transaction begun and nothing held back
        but the note's own event."""
        ...

    async def write_alone(
        self, statement: sa.Select[Any], parameters: dict[str, Any]
    ) -> Mapping[Any, Any] | None:
        """Send ``statement`` (built once, with named bind parameters) as the unit of
        work's only write, committing by itself; its first row. Then the unit of work is
        done."""
        ...
