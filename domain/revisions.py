"""Revisions and the trash: every version a note has had, and a deletion that can be undone.

Every write of a note (its creation, each edit, each restore) makes a version, and each
version is kept as a ``Revision``, the current one included, up to a number per note:
beyond it the oldest go first. A deleted note is a ``TrashedNote``: out of sight of every
read of notes, but restorable, as a new version, until it is purged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID

from domain.errors import RuleViolation
from domain.notes import Description, Note, Tags, Title

__all__ = [
    "DEFAULT_REVISIONS_KEPT",
    "DEFAULT_TRASH_RETENTION",
    "InvalidRetention",
    "Revision",
    "RevisionPolicy",
    "TrashedNote",
]

DEFAULT_REVISIONS_KEPT: Final = 100
DEFAULT_TRASH_RETENTION: Final = timedelta(days=30)


class InvalidRetention(RuleViolation):
    """A revision or trash retention that keeps nothing."""

    field = "retention"


@dataclass(frozen=True, slots=True, kw_only=True)
class Revision:
    """One version of a note's content, as it was written."""

    note_id: UUID
    owner_id: UUID
    version: int
    title: Title
    description: Description
    tags: Tags
    updated_date: datetime

    @classmethod
    def of(cls, note: Note) -> Revision:
        """The revision that ``note``'s current version is."""
        return cls(
            note_id=note.id,
            owner_id=note.owner_id,
            version=note.version,
            title=note.title,
            description=note.description,
            tags=note.tags,
            updated_date=note.updated_date,
        )

    def restored_onto(self, note: Note, *, now: datetime) -> Note:
        """``note`` with this revision's content made current again: a new version, as
        any edit."""
        return note.edited(now=now, title=self.title, description=self.description, tags=self.tags)


@dataclass(frozen=True, slots=True)
class RevisionPolicy:
    """How many revisions a note keeps (at least one: its current version)."""

    kept: int = DEFAULT_REVISIONS_KEPT

    def __post_init__(self) -> None:
        if self.kept < 1:
            raise InvalidRetention("at least one revision (the current one) is kept")

    def oldest_kept(self, version: int) -> int:
        """The oldest version kept once a note is at ``version``: the ones before it go."""
        return max(1, version - self.kept + 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrashedNote:
    """A deleted note, in its owner's trash since ``deleted_date``.

    A trashed note is not edited; it is restored (as a new version) or deleted for good.
    """

    note: Note
    deleted_date: datetime

    def restored(self, *, now: datetime) -> Note:
        """The note back out of the trash, with its id and content, one version later."""
        return self.note.edited(now=now)
