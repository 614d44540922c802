"""The core rules of the change feed and of personal access tokens, on the in-memory
adapter: each note once per answer in its latest state, resync past the log's retention,
and tokens' scopes, expiry, revocation and recorded use."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory import MemoryDatabase
from adapters.system import Uuid7Factory
from application import NotAuthenticated, NoteChanges, NoteDraft, Notes
from application.feed import Feed, FeedPosition, ResyncRequired
from application.personal_tokens import PersonalTokens, TokenNotFound
from application.retention import Sweep
from domain.personal_tokens import InvalidToken, PersonalToken, allows, parse_token
from tests.support import ALICE, START, ManualClock, register_owners


@pytest.fixture
async def database() -> MemoryDatabase:
    database = MemoryDatabase()
    await register_owners(database.unit_of_work)
    return database


async def test_an_answer_gives_each_note_once_in_its_latest_state(
    database: MemoryDatabase,
) -> None:
    clock = ManualClock()
    notes = Notes(database.unit_of_work, clock, Uuid7Factory())
    feed = Feed(database.unit_of_work, clock)
    start = await feed.changes(ALICE, None)
    assert (start.changes, start.more) == ([], False)
    note = await notes.create_note(ALICE, NoteDraft("one"))
    for title in ("two", "three"):
        await notes.patch_note(ALICE, note.id, NoteChanges(title=title))
    gone = await notes.create_note(ALICE, NoteDraft("gone"))
    await notes.delete_note(ALICE, gone.id)
    page = await feed.changes(ALICE, start.position)
    assert [(c.note_id, c.version, c.deleted) for c in page.changes] == [
        (note.id, 3, False),
        (gone.id, 1, True),
    ]
    assert page.changes[0].note is not None
    assert page.changes[0].note.title.value == "three"
    assert page.position.seq == 5
    limited = await feed.changes(ALICE, start.position, limit=2)
    assert ([c.version for c in limited.changes], limited.more) == ([3], True)


async def test_a_position_past_what_the_log_keeps_must_start_again(
    database: MemoryDatabase,
) -> None:
    clock = ManualClock()
    notes = Notes(database.unit_of_work, clock, Uuid7Factory())
    feed = Feed(database.unit_of_work, clock, retention=timedelta(days=10))
    await notes.create_note(ALICE, NoteDraft("old"))
    position = (await feed.changes(ALICE, None)).position
    clock.advance(timedelta(days=5))
    await notes.create_note(ALICE, NoteDraft("new"))
    old_position = FeedPosition(0, clock.now())
    sweep = Sweep(
        database.unit_of_work,
        clock,
        failure_window=timedelta(minutes=15),
        feed_retention=timedelta(days=1),
    )
    assert (await sweep()).note_events == 1
    assert len((await feed.changes(ALICE, position)).changes) == 1
    with pytest.raises(ResyncRequired):
        await feed.changes(ALICE, old_position)
    clock.advance(timedelta(days=10))
    with pytest.raises(ResyncRequired):
        await feed.changes(ALICE, position)


def test_token_rules() -> None:
    assert PersonalToken.check(" ci ", ["notes:write", "notes:read"], 365) == (
        "ci",
        frozenset({"notes:read", "notes:write"}),
    )
    for name, scopes, days in [
        ("", ["notes:read"], 1),
        ("x" * 101, ["notes:read"], 1),
        ("ok", [], 1),
        ("ok", ["notes:admin"], 1),
        ("ok", ["notes:read"], 0),
        ("ok", ["notes:read"], 366),
    ]:
        with pytest.raises(InvalidToken):
            PersonalToken.check(name, scopes, days)
    assert allows(frozenset({"notes:write"}), "notes:read")
    assert not allows(frozenset({"notes:read"}), "notes:write")
    assert parse_token("nst_short") is None
    assert parse_token("Bearer-ish") is None


async def test_a_token_checks_until_revoked_or_expired_and_records_use_once_a_minute(
    database: MemoryDatabase,
) -> None:
    clock = ManualClock()
    tokens = PersonalTokens(database.unit_of_work, clock, Uuid7Factory())
    created = await tokens.create(ALICE, "sync", ["notes:read"], 2)
    grant = await tokens.check(created.text)
    assert (grant.owner_id, grant.allows("notes:read"), grant.allows("notes:write")) == (
        ALICE,
        True,
        False,
    )
    [listed] = await tokens.list(ALICE)
    assert listed.last_used_date == START
    clock.advance(timedelta(seconds=59))
    await tokens.check(created.text)
    assert (await tokens.list(ALICE))[0].last_used_date == START
    clock.advance(timedelta(seconds=1))
    await tokens.check(created.text)
    assert (await tokens.list(ALICE))[0].last_used_date == clock.now()
    with pytest.raises(NotAuthenticated):
        await tokens.check(created.text[:-1] + ("a" if created.text[-1] != "a" else "b"))
    clock.advance(timedelta(days=2))
    with pytest.raises(NotAuthenticated):
        await tokens.check(created.text)
    other = await tokens.create(ALICE, "other", ["notes:write"], 30)
    await tokens.revoke(ALICE, other.token.id)
    with pytest.raises(NotAuthenticated):
        await tokens.check(other.text)
    with pytest.raises(TokenNotFound):
        await tokens.revoke(ALICE, other.token.id)
    swept = await Sweep(database.unit_of_work, clock, failure_window=timedelta(minutes=1))()
    assert swept.personal_tokens == 1
    assert await tokens.list(ALICE) == []
