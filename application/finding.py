"""Finding notes: the filter, the orders, and the keyset positions pages are cut at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, get_args
from uuid import UUID

from domain import Note, RuleViolation
from domain.search import SearchQuery

__all__ = [
    "ORDERS",
    "InvalidListing",
    "NoteFilter",
    "NotePage",
    "NoteQuery",
    "Order",
    "Position",
    "Ranked",
]

Order = Literal["created_desc", "created_asc", "updated_desc", "relevance"]
ORDERS: Final[tuple[Order, ...]] = get_args(Order)


class InvalidListing(RuleViolation):
    """A listing request whose parameters contradict each other; ``field`` names the one
    to change."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class NoteFilter:
    """Which of an owner's notes: those carrying every tag in ``tags`` and, if ``search``
    is given, matching it."""

    tags: tuple[str, ...] = ()
    search: SearchQuery | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended, in the order it was sorted by: the last note's sort key and its
    id, which breaks ties. ``moment`` is the note's ``created_date`` (or ``updated_date``
    for ``updated_desc``); ``score`` its relevance, for ``relevance`` only, where ties go
    to the newer note."""

    moment: datetime
    id: UUID
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class Ranked:
    """A note found, with its relevance (0 unless ordered by relevance)."""

    note: Note
    score: float = 0.0

    def position(self, order: Order) -> Position:
        moment = self.note.updated_date if order == "updated_desc" else self.note.created_date
        return Position(moment=moment, id=self.note.id, score=self.score)


@dataclass(frozen=True, slots=True)
class NoteQuery:
    """A listing request as a client makes it: raw tags and search text, an order, and a
    page (``limit`` notes after ``after``, or after skipping ``skip``, not both)."""

    tags: Sequence[str] = ()
    text: str | None = None
    order: Order = "created_desc"
    limit: int = 100
    skip: int = 0
    after: Position | None = None


@dataclass(frozen=True, slots=True)
class NotePage:
    """One page of notes, and the position to continue from (``None`` on the last page)."""

    notes: list[Note]
    next: Position | None
