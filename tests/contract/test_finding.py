"""Finding notes gives the same answer on every backend: one table of notes, queries and the
notes each must find, in order; keyset paging that neither skips nor repeats."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from adapters.system import Uuid7Factory
from application import NoteQuery, Notes, Position, UnitOfWorkFactory
from domain import RuleViolation, Title
from tests.support import ALICE, BOB, START, SteppingClock, make_note

NOTES = {
    "groceries": ("Groceries", "milk, eggs, sourdough bread", ("home", "weekly")),
    "meeting": ("Team meeting", "Discuss the e-mail migration and the budget", ("work",)),
    "recipe": (
        "Sourdough recipe",
        "Flour, water, salt. Feed the starter daily.",
        ("home", "cooking"),
    ),
    "travel": ("Trip to Zürich", "Book the train; visit the old town (Altstadt)", ("travel",)),
    "unicode": ("日本語 ノート", "東京 Tokyo 2026", ()),
    "tea": ("MILK Tea", "BUBBLE tea with milk", ("cooking",)),
}
NEWEST_FIRST = ["tea", "unicode", "travel", "recipe", "meeting", "groceries"]

SEARCHES = [
    ("milk", ["tea", "groceries"]),
    ("Milk", ["tea", "groceries"]),
    ("mil", []),
    ("mil*", ["tea", "groceries"]),
    ("MIL*", ["tea", "groceries"]),
    ("sourdough", ["recipe", "groceries"]),
    ("sourdough -recipe", ["groceries"]),
    ('"sourdough bread"', ["groceries"]),
    ('"bread sourdough"', []),
    ('"groceries milk"', ["groceries"]),
    ("e-mail", ["meeting"]),
    ("email", []),
    ("zürich", ["travel"]),
    ("ZÜRICH", ["travel"]),
    ("zurich", []),
    ("altstadt", ["travel"]),
    ("東京", ["unicode"]),
    ("日本語", ["unicode"]),
    ("2026", ["unicode"]),
    ("tea milk", ["tea"]),
    ("tea -bubble", []),
    ("-milk", ["unicode", "travel", "recipe", "meeting"]),
    ('-"sourdough bread" sourdough', ["recipe"]),
    ("tok*", ["unicode"]),
    ("the", ["travel", "recipe", "meeting"]),
    ("water, salt.", ["recipe"]),
]

TAGS = [
    (["home"], None, ["recipe", "groceries"]),
    (["home", "cooking"], None, ["recipe"]),
    (["HOME"], None, ["recipe", "groceries"]),
    (["home"], "milk", ["groceries"]),
    (["nothing"], None, []),
]


@pytest.fixture
async def notes(uow_factory: UnitOfWorkFactory) -> tuple[Notes, dict[str, str]]:
    """The table's notes of Alice's, created a second apart, and one of Bob's that matches
    nearly everything and must never be found."""
    names: dict[str, str] = {}
    async with uow_factory() as uow:
        for i, (name, (title, description, tags)) in enumerate(NOTES.items()):
            note = make_note(title, description, tags, created=START + timedelta(seconds=i))
            names[str(note.id)] = name
            await uow.notes.add(note)
        everything = " ".join(" ".join((t, d)) for t, d, _ in NOTES.values())
        await uow.notes.add(
            make_note("Groceries tea milk", everything, ("home", "cooking"), owner_id=BOB)
        )
        await uow.commit()
    return Notes(uow_factory, SteppingClock(), Uuid7Factory()), names


async def _names(notes: tuple[Notes, dict[str, str]], query: NoteQuery) -> list[str]:
    use_cases, names = notes
    page = await use_cases.find_notes(ALICE, query)
    return [names[str(note.id)] for note in page.notes]


@pytest.mark.parametrize(("text", "expected"), SEARCHES)
async def test_a_search_finds_the_same_notes_on_every_backend(
    notes: tuple[Notes, dict[str, str]], text: str, expected: list[str]
) -> None:
    assert await _names(notes, NoteQuery(text=text)) == expected


@pytest.mark.parametrize(("tags", "text", "expected"), TAGS)
async def test_a_note_must_carry_every_tag_asked_for(
    notes: tuple[Notes, dict[str, str]], tags: list[str], text: str | None, expected: list[str]
) -> None:
    assert await _names(notes, NoteQuery(tags=tags, text=text)) == expected


async def test_the_orders(
    notes: tuple[Notes, dict[str, str]], uow_factory: UnitOfWorkFactory
) -> None:
    assert await _names(notes, NoteQuery()) == NEWEST_FIRST
    assert await _names(notes, NoteQuery(order="created_asc")) == NEWEST_FIRST[::-1]
    _, names = notes
    recipe = next(note_id for note_id, name in names.items() if name == "recipe")
    async with uow_factory() as uow:
        stored = await uow.notes.get(ALICE, UUID(recipe))
        assert stored is not None
        edited = stored.edited(now=START + timedelta(hours=1), title=Title("Sourdough recipe v2"))
        assert await uow.notes.update(edited, expected_version=1)
        await uow.commit()
    assert (await _names(notes, NoteQuery(order="updated_desc")))[0] == "recipe"
    # A match in the title outweighs one in the description, on every backend.
    assert await _names(notes, NoteQuery(text="milk", order="relevance")) == ["tea", "groceries"]


@pytest.mark.parametrize("order", ["created_desc", "created_asc", "updated_desc", "relevance"])
async def test_keyset_pages_cover_everything_once(
    notes: tuple[Notes, dict[str, str]], order: str
) -> None:
    use_cases, names = notes
    # Relevance needs a search: one that every note matches, with scores that tie.
    text = "-nothingatall" if order == "relevance" else None
    query = NoteQuery(order=order, limit=2, text=text)  # type: ignore[arg-type]
    everything = await _names(notes, NoteQuery(order=query.order, text=query.text))
    seen: list[str] = []
    while True:
        page = await use_cases.find_notes(ALICE, query)
        seen += [names[str(note.id)] for note in page.notes]
        if page.next is None:
            break
        query = NoteQuery(order=query.order, text=query.text, limit=2, after=page.next)
    assert seen == everything
    assert len(seen) == len(NOTES)


async def test_pages_neither_skip_nor_repeat_while_notes_come_and_go(
    notes: tuple[Notes, dict[str, str]], uow_factory: UnitOfWorkFactory
) -> None:
    use_cases, names = notes
    first = await use_cases.find_notes(ALICE, NoteQuery(limit=2))
    async with uow_factory() as uow:
        await uow.notes.add(make_note("newer than all", created=START + timedelta(days=1)))
        deleted = next(note_id for note_id, name in names.items() if name == "recipe")
        assert await uow.notes.delete(ALICE, UUID(deleted))
        await uow.commit()
    rest: list[str] = []
    after = first.next
    while after is not None:
        page = await use_cases.find_notes(ALICE, NoteQuery(limit=2, after=after))
        rest += [names[str(note.id)] for note in page.notes]
        after = page.next
    existed_throughout = [n for n in NEWEST_FIRST[2:] if n != "recipe"]
    assert rest == existed_throughout


async def test_skip_pages_by_offset(notes: tuple[Notes, dict[str, str]]) -> None:
    assert await _names(notes, NoteQuery(limit=2, skip=2)) == NEWEST_FIRST[2:4]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (NoteQuery(text="***"), "q"),
        (NoteQuery(text="x " * 300), "q"),
        (NoteQuery(text=" ".join(f"w{i}" for i in range(21))), "q"),
        (NoteQuery(order="relevance"), "order"),
        (NoteQuery(tags=["not a tag"]), "tag"),
        (NoteQuery(skip=1, after=Position(moment=START, id=ALICE)), "skip"),
    ],
)
async def test_a_request_the_rules_refuse_names_its_field(
    notes: tuple[Notes, dict[str, str]], query: NoteQuery, field: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        await notes[0].find_notes(ALICE, query)
    assert caught.value.field == field
