"""What MySQL and MariaDB do differently by default, and the promises kept anyway: exact
text (4-byte characters, case, trailing spaces), microseconds, long descriptions, search
through the FULLTEXT index, lost races as ``Conflict``, and outages as
``StorageUnavailable`` with recovery without a restart. On the server of ``TEST_MYSQL_URL``
(skipped, saying so, without one)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy import SqlDatabase, create_engine
from adapters.sqlalchemy.finding import MYSQL_WORDS_INDEX, find_statement
from adapters.sqlalchemy.notes import COLUMNS
from application import Conflict, NoteFilter, StorageUnavailable
from application.idempotency import IdempotencyRecord
from domain.search import parse_query
from tests.integration.tcp_proxy import proxied
from tests.support import ALICE, START, make_note, register_owners


@pytest.fixture
async def database(mysql_database: SqlDatabase) -> SqlDatabase:
    await register_owners(mysql_database.unit_of_work)
    return mysql_database


async def _stored(database: SqlDatabase, *notes: Any) -> None:
    async with database.unit_of_work() as uow:
        for note in notes:
            await uow.notes.add(note)
        await uow.commit()


async def test_text_and_moments_come_back_exactly(database: SqlDatabase) -> None:
    moment = datetime(2026, 11, 22, 10, 15, 1, 123456, tzinfo=UTC)
    long = "𝄞" * 100_000  # 400,000 bytes of 4-byte characters: more than a TEXT holds
    note = make_note("Café 🍰 ", long, ["home", "work-2"], created=moment)
    await _stored(database, note)
    async with database.unit_of_work() as uow:
        assert await uow.notes.get(ALICE, note.id) == note


@pytest.mark.parametrize("other", ["KEY", "key ", "kéy"])
async def test_idempotency_keys_that_differ_in_case_accent_or_spaces_are_different(
    database: SqlDatabase, other: str
) -> None:
    def record(key: str) -> IdempotencyRecord:
        return IdempotencyRecord(
            owner_id=ALICE,
            key=key,
            fingerprint="f" * 64,
            result="[]",
            created_at=START,
            expires_at=START + timedelta(days=1),
        )

    async with database.unit_of_work() as uow:
        assert await uow.idempotency_keys.claim(record("key")) is None
        assert await uow.idempotency_keys.claim(record(other)) is None
        assert await uow.idempotency_keys.claim(record("key")) is not None
        await uow.commit()


async def test_a_search_goes_through_the_fulltext_index(
    database: SqlDatabase, mysql_engine: AsyncEngine
) -> None:
    await _stored(database, *(make_note(f"note {n}", f"word{n} common") for n in range(200)))
    statement = find_statement(
        COLUMNS,
        ALICE,
        NoteFilter(search=parse_query("word7 comm*")),
        "relevance",
        limit=10,
        after=None,
        skip=0,
        dialect="mysql",
    )
    sql = statement.compile(dialect=mysql_engine.dialect, compile_kwargs={"literal_binds": True})
    async with mysql_engine.connect() as connection:
        plan = (await connection.execute(sa.text(f"EXPLAIN {sql}"))).mappings().all()
    notes_plan = [row for row in plan if row["table"] == "notes"]
    assert [row["key"] for row in notes_plan] == [MYSQL_WORDS_INDEX], plan
    async with database.unit_of_work() as uow:
        found = await uow.notes.find(
            ALICE, NoteFilter(search=parse_query("word7 comm*")), "relevance", limit=10
        )
    assert [ranked.note.title.value for ranked in found] == ["note 7"]


async def test_a_long_word_is_found_whole_and_by_prefix(database: SqlDatabase) -> None:
    """FULLTEXT indexes no token longer than 84 characters: the index holds them cut."""
    word = "pneumonoultramicroscopicsilicovolcanoconiosis" * 2  # 90 letters
    note = make_note("lung", f"a {word} b")
    await _stored(database, note, make_note("other", f"a {word[:-1]} b"))
    async with database.unit_of_work() as uow:
        for query, expected in ((word, ["lung"]), (word[:60] + "*", ["lung", "other"])):
            found = await uow.notes.find(
                ALICE, NoteFilter(search=parse_query(query)), "created_asc", limit=5
            )
            assert sorted(r.note.title.value for r in found) == expected, query


async def test_a_deadlock_is_a_conflict_and_changes_nothing(database: SqlDatabase) -> None:
    first, second = make_note("first"), make_note("second")
    await _stored(database, first, second)
    both_locked = asyncio.Barrier(2)

    async def lock(one: Any, other: Any) -> None:
        async with database.unit_of_work() as uow:
            await uow.notes.get(ALICE, one.id, for_update=True)
            await both_locked.wait()
            edited = other.edited(now=START + timedelta(hours=1), title=None)
            await uow.notes.get(ALICE, other.id, for_update=True)
            await uow.notes.update(edited, expected_version=1)
            await uow.commit()

    outcomes = await asyncio.gather(
        lock(first, second), lock(second, first), return_exceptions=True
    )
    assert sum(isinstance(outcome, Conflict) for outcome in outcomes) == 1, outcomes
    assert sum(outcome is None for outcome in outcomes) == 1, outcomes


async def test_a_statement_that_waits_too_long_is_storage_unavailable(
    database: SqlDatabase, mysql_url: str
) -> None:
    note = make_note()
    await _stored(database, note)
    impatient = create_engine(mysql_url, statement_timeout=0.5)
    try:
        async with database.unit_of_work() as holder:
            assert await holder.notes.get(ALICE, note.id, for_update=True) is not None
            async with asyncio.timeout(30):
                with pytest.raises((StorageUnavailable, Conflict)):
                    async with SqlDatabase(impatient).unit_of_work() as uow:
                        await uow.notes.get(ALICE, note.id, for_update=True)
    finally:
        await impatient.dispose()


async def test_an_unreachable_server_is_storage_unavailable_and_recovery_needs_no_restart(
    database: SqlDatabase, mysql_url: str
) -> None:
    note = make_note()
    await _stored(database, note)
    async with proxied(mysql_url) as proxy:
        engine = create_engine(proxy.url, connect_timeout=1.0, pool_timeout=1.0)
        try:
            through = SqlDatabase(engine)
            async with through.unit_of_work() as uow:
                assert await uow.notes.get(ALICE, note.id) == note
            # A restart: every connection cut; the next unit of work gets a new one.
            await proxy.drop_connections()
            async with through.unit_of_work() as uow:
                assert await uow.notes.get(ALICE, note.id) == note
            # Down: no connection can be made.
            await proxy.close()
            async with asyncio.timeout(30):
                with pytest.raises(StorageUnavailable):
                    async with through.unit_of_work() as uow:
                        await uow.notes.get(ALICE, note.id)
            # Up again, on the same address: the same engine serves again.
            await proxy.start(port=proxy.port)
            async with through.unit_of_work() as uow:
                assert await uow.notes.get(ALICE, note.id) == note
        finally:
            await engine.dispose()
