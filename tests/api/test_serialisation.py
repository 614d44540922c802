"""A note's JSON is the same bytes whatever kind of UUID its adapter produced."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from uuid import UUID, uuid4

from asyncpg.pgproto.pgproto import UUID as DriverUuid  # type: ignore[import-untyped]

from domain import Description, Note, Tags, Title
from entrypoints.http.schemas import note_json, notes_json


def _note(note_id: UUID) -> Note:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    return Note(
        id=note_id,
        owner_id=uuid4(),
        title=Title("Groceries"),
        description=Description("milk"),
        tags=Tags(("home",)),
        created_date=moment,
        updated_date=moment,
        version=2,
    )


def test_a_driver_uuid_is_written_as_the_standard_one_is() -> None:
    standard = uuid4()
    driver = DriverUuid(str(standard))
    assert type(driver) is not UUID
    owners: defaultdict[UUID, str] = defaultdict(lambda: "alice")
    assert note_json(_note(driver), "alice") == note_json(_note(standard), "alice")
    assert notes_json([_note(driver)], owners) == notes_json([_note(standard)], owners)
    assert json.loads(note_json(_note(driver), "alice")) == {
        "id": str(standard),
        "title": "Groceries",
        "description": "milk",
        "tags": ["home"],
        "created_date": "2026-01-02T03:04:05.678000Z",
        "updated_date": "2026-01-02T03:04:05.678000Z",
        "version": 2,
        "owner": "alice",
    }
