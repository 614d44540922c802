"""Every rule of a note, as API.md states it: each one broken, each one kept at its edge."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from domain import (
    Description,
    InvalidDescription,
    InvalidNote,
    InvalidTags,
    InvalidTitle,
    Note,
    Tags,
    Title,
)
from tests.support import ALICE, START, make_note


class TestTitle:
    def test_is_trimmed(self) -> None:
        assert Title("  Groceries \n").value == "Groceries"

    @pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
    def test_must_not_be_empty_after_trimming(self, raw: str) -> None:
        with pytest.raises(InvalidTitle):
            Title(raw)

    def test_may_be_200_characters(self) -> None:
        assert len(Title("x" * 200).value) == 200

    def test_must_not_exceed_200_characters(self) -> None:
        with pytest.raises(InvalidTitle) as caught:
            Title("x" * 201)
        assert caught.value.field == "title"

    def test_length_counts_after_trimming(self) -> None:
        assert Title("  " + "x" * 200 + "  ").value == "x" * 200

    def test_must_be_a_string(self) -> None:
        with pytest.raises(InvalidTitle):
            Title(42)  # type: ignore[arg-type]

    def test_must_not_contain_nul(self) -> None:
        with pytest.raises(InvalidTitle):
            Title("a\x00b")


class TestDescription:
    def test_may_be_empty(self) -> None:
        assert Description("").value == ""

    def test_keeps_its_whitespace(self) -> None:
        assert Description("  indented\n").value == "  indented\n"

    def test_may_be_100000_characters(self) -> None:
        assert len(Description("d" * 100_000).value) == 100_000

    def test_must_not_exceed_100000_characters(self) -> None:
        with pytest.raises(InvalidDescription) as caught:
            Description("d" * 100_001)
        assert caught.value.field == "description"

    def test_must_not_contain_nul(self) -> None:
        with pytest.raises(InvalidDescription):
            Description("line\x00")

    def test_must_be_a_string(self) -> None:
        with pytest.raises(InvalidDescription):
            Description(None)  # type: ignore[arg-type]


class TestTags:
    def test_are_lower_cased_and_deduplicated_in_order(self) -> None:
        assert Tags(("Home", "weekly", "HOME", "home")).values == ("home", "weekly")

    def test_allow_digits_dash_and_underscore(self) -> None:
        assert Tags(("to-do_2026",)).values == ("to-do_2026",)

    def test_may_be_empty(self) -> None:
        assert Tags(()).values == ()

    @pytest.mark.parametrize("bad", ["with space", "dot.ted", "émoji", "slash/", "", "#hash"])
    def test_reject_characters_outside_the_alphabet(self, bad: str) -> None:
        with pytest.raises(InvalidTags) as caught:
            Tags(("ok", bad))
        assert caught.value.index == 1

    def test_may_be_50_characters(self) -> None:
        assert Tags(("t" * 50,)).values == ("t" * 50,)

    def test_must_not_exceed_50_characters(self) -> None:
        with pytest.raises(InvalidTags):
            Tags(("t" * 51,))

    def test_at_most_20_distinct(self) -> None:
        assert len(Tags(tuple(f"t{i}" for i in range(20))).values) == 20
        with pytest.raises(InvalidTags):
            Tags(tuple(f"t{i}" for i in range(21)))

    def test_duplicates_do_not_count_towards_the_limit(self) -> None:
        assert len(Tags(tuple(f"t{i % 20}" for i in range(40))).values) == 20

    def test_must_be_a_list_not_a_string(self) -> None:
        with pytest.raises(InvalidTags):
            Tags("home")  # type: ignore[arg-type]

    def test_each_must_be_a_string(self) -> None:
        with pytest.raises(InvalidTags) as caught:
            Tags(("home", 3))  # type: ignore[arg-type]
        assert caught.value.index == 1


class TestNote:
    def test_starts_at_version_1_created_and_updated_together(self) -> None:
        note = make_note()
        assert note.version == 1
        assert note.created_date == note.updated_date == START

    def test_every_edit_adds_one_to_version_and_moves_updated_date(self) -> None:
        note = make_note()
        later = START + timedelta(seconds=5)
        edited = note.edited(now=later, title=Title("Shopping"))
        assert (edited.version, edited.updated_date, edited.created_date) == (2, later, START)
        assert edited.title.value == "Shopping"
        assert edited.description == note.description
        assert edited.edited(now=later).version == 3

    def test_edit_leaves_the_original_untouched(self) -> None:
        note = make_note()
        note.edited(now=START + timedelta(seconds=1), title=Title("Other"))
        assert (note.title.value, note.version) == ("Groceries", 1)

    def test_updated_date_never_moves_backwards(self) -> None:
        note = make_note()
        assert note.edited(now=START - timedelta(hours=1)).updated_date == START

    def test_version_starts_at_1(self) -> None:
        with pytest.raises(InvalidNote):
            Note(
                id=make_note().id,
                owner_id=ALICE,
                title=Title("x"),
                created_date=START,
                updated_date=START,
                version=0,
            )

    @pytest.mark.parametrize(
        "moment",
        [
            datetime(2026, 11, 22, 10, 15),
            datetime(2026, 11, 22, 10, 15, tzinfo=timezone(timedelta(hours=1))),
        ],
    )
    def test_timestamps_are_timezone_aware_utc(self, moment: datetime) -> None:
        with pytest.raises(InvalidNote):
            make_note(created=moment)

    def test_equality_is_by_identity(self) -> None:
        note = make_note()
        assert note == note.edited(now=START, title=Title("Changed"))
        assert note != make_note()
        assert len({note, note.edited(now=START)}) == 1

    def test_timestamps_in_utc_are_accepted(self) -> None:
        assert make_note(created=datetime(2026, 1, 1, tzinfo=UTC)).created_date.tzinfo is UTC


def test_a_restored_note_equals_the_checked_one_field_for_field() -> None:
    checked = Note.create(
        id=uuid4(),
        owner_id=uuid4(),
        title=Title("  Groceries "),
        description=Description("milk, eggs"),
        tags=Tags(("Home", "weekly", "home")),
        now=START,
    ).edited(now=START + timedelta(seconds=5))
    restored = Note.restore(
        id=checked.id,
        owner_id=checked.owner_id,
        title=checked.title.value,
        description=checked.description.value,
        tags=list(checked.tags.values),
        created_date=checked.created_date,
        updated_date=checked.updated_date,
        version=checked.version,
    )
    assert restored == checked
    assert [getattr(restored, f.name) for f in fields(Note)] == [
        getattr(checked, f.name) for f in fields(Note)
    ]
    assert restored.tags.values == ("home", "weekly")
    assert isinstance(restored.tags.values, tuple)
    assert type(restored.title) is Title
    assert type(restored.description) is Description
    with pytest.raises(FrozenInstanceError):
        restored.title.value = "changed"  # type: ignore[misc]
    assert restored.edited(now=START + timedelta(seconds=9), title=Title("New")).version == 3
