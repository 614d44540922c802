"""Who may do what to a note: the one rule of access.

A caller stands in one ``Relation`` to a note: its owner, a grantee of a ``write`` or a
``read`` share, or nobody. ``decide`` says, for each ``Action``, whether that relation lets
the caller do it (``ALLOWED``), lets the caller see the note but not do this
(``FORBIDDEN``: a 403), or hides the note altogether (``HIDDEN``: the note is not found).

A note neither owned by nor shared with the caller is hidden from every action, so its
existence is never told. A grantee sees the note itself (and writes it with ``write``);
the note's deletion stays its owner's (forbidden: the grantee sees the note); its
revisions, trash, shares and links are the owner's own records and stay hidden from
grantees, exactly as for a stranger.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

from domain.errors import RuleViolation
from domain.notes import Note

__all__ = [
    "PERMISSIONS",
    "Action",
    "Decision",
    "InvalidPermission",
    "Relation",
    "SeenNote",
    "decide",
    "relation_of",
]


class Relation(Enum):
    """How a caller stands to a note."""

    OWNER = "owner"
    WRITE = "write"
    READ = "read"
    NONE = "none"


class Action(Enum):
    """What a caller may ask to do with a note."""

    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    SHARE = "share"
    LINK = "link"
    REVISIONS = "revisions"
    TRASH = "trash"


class Decision(Enum):
    ALLOWED = "allowed"
    FORBIDDEN = "forbidden"
    HIDDEN = "hidden"


_A, _F, _H = Decision.ALLOWED, Decision.FORBIDDEN, Decision.HIDDEN
_GRANTEE_BEYOND_WRITE: Final = {
    Action.DELETE: _F,
    Action.SHARE: _H,
    Action.LINK: _H,
    Action.REVISIONS: _H,
    Action.TRASH: _H,
}
_RULE: Final[dict[Relation, dict[Action, Decision]]] = {
    Relation.OWNER: dict.fromkeys(Action, _A),
    Relation.WRITE: {Action.READ: _A, Action.WRITE: _A, **_GRANTEE_BEYOND_WRITE},
    Relation.READ: {Action.READ: _A, Action.WRITE: _F, **_GRANTEE_BEYOND_WRITE},
    Relation.NONE: dict.fromkeys(Action, _H),
}


def decide(relation: Relation, action: Action) -> Decision:
    """Whether a caller in ``relation`` to a note may do ``action`` to it."""
    return _RULE[relation][action]


class InvalidPermission(RuleViolation):
    """A share's permission is neither ``read`` nor ``write``."""

    field = "permission"


PERMISSIONS: Final = {"read": Relation.READ, "write": Relation.WRITE}
"""A share's permission, as a client names it, and the relation it gives its grantee."""


def relation_of(permission: str) -> Relation:
    """The relation a share with ``permission`` gives; ``InvalidPermission`` otherwise."""
    relation = PERMISSIONS.get(permission) if isinstance(permission, str) else None
    if relation is None:
        raise InvalidPermission("must be 'read' or 'write'")
    return relation


@dataclass(frozen=True, slots=True)
class SeenNote:
    """A note as one caller may see it: the note and the caller's relation to it."""

    note: Note
    relation: Relation
