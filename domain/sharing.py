"""Shares with named users and public read-only links: what they are and their rules.

A share gives one user (the grantee) ``read`` or ``write`` access to one note of its
owner's. A link lets anyone holding its token read the note's content until the link
expires or is revoked; the token itself is never stored, only its hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID

from domain.access import Relation
from domain.errors import RuleViolation

__all__ = [
    "DEFAULT_LINK_DAYS",
    "MAX_LINK_DAYS",
    "InvalidLinkLifetime",
    "InvalidShare",
    "Link",
    "Share",
    "SharedNote",
    "link_lifetime",
]

DEFAULT_LINK_DAYS: Final = 7
MAX_LINK_DAYS: Final = 365


class InvalidShare(RuleViolation):
    """A share that cannot be: with the note's own owner."""

    field = "username"


class InvalidLinkLifetime(RuleViolation):
    field = "expires_in_days"


@dataclass(frozen=True, slots=True, kw_only=True)
class Share:
    """``grantee_id`` (named ``grantee``) may see ``owner_id``'s note ``note_id`` with
    ``permission`` (``Relation.READ`` or ``Relation.WRITE``) since ``created_date``."""

    owner_id: UUID
    note_id: UUID
    grantee_id: UUID
    grantee: str
    permission: Relation
    created_date: datetime

    def __post_init__(self) -> None:
        if self.permission not in (Relation.READ, Relation.WRITE):
            raise InvalidShare("a share gives read or write access")
        if self.grantee_id == self.owner_id:
            raise InvalidShare("a note cannot be shared with its owner")


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedNote:
    """A share as its grantee's index holds it: ``grantee_id`` may see ``owner_id``'s note
    ``note_id`` (created at ``note_created_date``) with ``permission``."""

    grantee_id: UUID
    note_id: UUID
    owner_id: UUID
    permission: Relation
    note_created_date: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """A public read-only link to ``owner_id``'s note ``note_id``, found by the hash of its
    token, working from ``created_date`` until ``expires_date``."""

    id: UUID
    owner_id: UUID
    note_id: UUID
    token_hash: str
    created_date: datetime
    expires_date: datetime

    def works_at(self, now: datetime) -> bool:
        return now < self.expires_date


def link_lifetime(days: int) -> timedelta:
    """How long a new link works: ``days`` days, 1 to ``MAX_LINK_DAYS``."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_LINK_DAYS:
        raise InvalidLinkLifetime(f"must be a whole number of days from 1 to {MAX_LINK_DAYS}")
    return timedelta(days=days)
