"""The rule of access: what each relation to a note lets a caller do, as one table."""

from __future__ import annotations

from uuid import uuid4

import pytest

from application import NoteNotFound, NotPermitted
from application.notes import allowed
from domain.access import (
    Action,
    Decision,
    InvalidPermission,
    Relation,
    SeenNote,
    decide,
    relation_of,
)
from domain.sharing import InvalidLinkLifetime, InvalidShare, Share, link_lifetime
from tests.support import ALICE, BOB, START, make_note

A, F, H = Decision.ALLOWED, Decision.FORBIDDEN, Decision.HIDDEN
# read, write, delete, share, link, revisions, trash
EXPECTED = {
    Relation.OWNER: (A, A, A, A, A, A, A),
    Relation.WRITE: (A, A, F, H, H, H, H),
    Relation.READ: (A, F, F, H, H, H, H),
    Relation.NONE: (H, H, H, H, H, H, H),
}
ACTIONS = (
    Action.READ,
    Action.WRITE,
    Action.DELETE,
    Action.SHARE,
    Action.LINK,
    Action.REVISIONS,
    Action.TRASH,
)


def test_the_rule_is_the_table() -> None:
    assert set(ACTIONS) == set(Action)
    assert set(EXPECTED) == set(Relation)
    for relation, decisions in EXPECTED.items():
        assert tuple(decide(relation, action) for action in ACTIONS) == decisions, relation


def test_a_hidden_note_is_not_found_and_a_forbidden_action_is_not_permitted() -> None:
    note = make_note()
    assert allowed(SeenNote(note, Relation.WRITE), note.id, Action.WRITE) is note
    with pytest.raises(NotPermitted):
        allowed(SeenNote(note, Relation.READ), note.id, Action.WRITE)
    with pytest.raises(NoteNotFound):
        allowed(SeenNote(note, Relation.WRITE), note.id, Action.REVISIONS)
    with pytest.raises(NoteNotFound):
        allowed(None, note.id, Action.READ)


@pytest.mark.parametrize("permission", ["", "READ", "owner", "none", "admin", 1, None])
def test_only_read_and_write_are_permissions(permission: object) -> None:
    with pytest.raises(InvalidPermission):
        relation_of(permission)  # type: ignore[arg-type]
    assert relation_of("read") is Relation.READ
    assert relation_of("write") is Relation.WRITE


def test_a_share_gives_read_or_write_to_someone_else() -> None:
    share = {"owner_id": ALICE, "note_id": uuid4(), "grantee": "bob", "created_date": START}
    Share(grantee_id=BOB, permission=Relation.READ, **share)  # type: ignore[arg-type]
    for grantee, permission in ((ALICE, Relation.READ), (BOB, Relation.OWNER)):
        with pytest.raises(InvalidShare):
            Share(grantee_id=grantee, permission=permission, **share)  # type: ignore[arg-type]


@pytest.mark.parametrize("days", [0, -1, 366, True, 1.5, "7"])
def test_a_link_lives_one_to_365_days(days: object) -> None:
    with pytest.raises(InvalidLinkLifetime):
        link_lifetime(days)  # type: ignore[arg-type]
    assert link_lifetime(365).days == 365
