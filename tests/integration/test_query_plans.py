"""On PostgreSQL, with enough notes for the planner to care, listing, tag filters and search
use the indexes: no plan scans the notes table sequentially."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy import create_engine
from adapters.sqlalchemy.finding import find_statement, shape_of, shaped_statement
from adapters.sqlalchemy.notes import COLUMNS, note_row
from adapters.sqlalchemy.tables import notes
from application import NoteFilter, Order, Position
from domain.search import parse_query
from tests.databases import migrated, scratch_postgres_database
from tests.support import ALICE, START, make_note, register_owners

ROWS = 50_000
VOCABULARY = [f"word{n}" for n in range(2000)]


@pytest.fixture(scope="module")
async def crowded(postgres_server_url: URL) -> AsyncIterator[AsyncEngine]:
    """A database where one owner has 50,000 notes: a word in half of them ("common"), tags
    shared by a hundred notes each, and another in half ("half")."""
    randomness = random.Random(7)
    async with scratch_postgres_database(postgres_server_url) as url:
        await migrated(url)
        engine = create_engine(url)
        from adapters.sqlalchemy import SqlDatabase

        await register_owners(SqlDatabase(engine).unit_of_work)
        rows: list[dict[str, Any]] = []
        for i in range(ROWS):
            words = " ".join(randomness.sample(VOCABULARY, 3))
            common = " common" if i % 2 else ""
            tags = [f"t{i % 500}"] + (["half"] if i % 2 else [])
            note = make_note(
                f"note {i}", words + common, tags, created=START + timedelta(seconds=i)
            )
            rows.append(note_row(note))
        # One transaction per batch: the usage trigger runs at each commit, once per row.
        for start in range(0, ROWS, 5000):
            async with engine.begin() as connection:
                await connection.execute(notes.insert(), rows[start : start + 5000])
        async with engine.begin() as connection:
            await connection.execute(sa.text("ANALYZE notes"))
        yield engine
        await engine.dispose()


async def _plan(
    engine: AsyncEngine, where: NoteFilter, order: Order, after: Position | None = None
) -> str:
    statement = find_statement(
        COLUMNS, ALICE, where, order, limit=51, after=after, skip=0, dialect="postgresql"
    )
    sql = str(
        statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )
    async with engine.connect() as connection:
        lines = (await connection.execute(sa.text("EXPLAIN " + sql))).scalars().all()
    return "\n".join(lines)


MIDDLE = Position(moment=START + timedelta(seconds=ROWS // 2), id=ALICE)
CASES = [
    ("first page", NoteFilter(), "created_desc", None),
    ("deep page by cursor", NoteFilter(), "created_desc", MIDDLE),
    ("oldest first", NoteFilter(), "created_asc", MIDDLE),
    ("recently updated", NoteFilter(), "updated_desc", None),
    ("one tag", NoteFilter(tags=("t7",)), "created_desc", None),
    ("two tags", NoteFilter(tags=("t7", "half")), "created_desc", None),
    ("selective word", NoteFilter(search=parse_query("word42")), "created_desc", None),
    ("selective word by relevance", NoteFilter(search=parse_query("word42")), "relevance", None),
    ("phrase", NoteFilter(search=parse_query('"word42 common"')), "created_desc", None),
    ("prefix", NoteFilter(search=parse_query("word42*")), "created_desc", None),
    ("common word", NoteFilter(search=parse_query("common")), "created_desc", None),
    ("word and tag", NoteFilter(tags=("t7",), search=parse_query("common")), "created_desc", None),
]


@pytest.mark.parametrize(("name", "where", "order", "after"), CASES, ids=[c[0] for c in CASES])
async def test_no_sequential_scan_of_the_notes(
    crowded: AsyncEngine, name: str, where: NoteFilter, order: Order, after: Position | None
) -> None:
    plan = await _plan(crowded, where, order, after)
    assert "Seq Scan on notes" not in plan, plan
    assert "Index" in plan, plan


async def _prepared_plans(
    engine: AsyncEngine, where: NoteFilter, words: list[str], *, mode: str | None = None
) -> list[str]:
    """The plans of the repository's own statement for a search, as asyncpg runs it: one
    prepared statement, executed again for each of ``words`` in turn (six times each, past
    the five custom plans PostgreSQL makes before it may switch to a generic one). With
    ``mode``, under that ``plan_cache_mode`` instead of the engine's."""
    statement = shaped_statement(COLUMNS, shape_of(where, "created_desc", None, 0))
    compiled = statement.compile(dialect=engine.dialect)
    plans = []
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        if mode is not None:
            await driver.execute(f"SET plan_cache_mode = {mode}")
        await driver.execute(f"PREPARE search AS {compiled.string}")
        try:
            for word in words:
                for _ in range(6):
                    lines = await driver.fetch(f"EXPLAIN EXECUTE search('{word}', '{ALICE}', 51)")
                plans.append("\n".join(line[0] for line in lines))
        finally:
            await driver.execute("DEALLOCATE search")
            await connection.invalidate()  # nothing of this session goes back to the pool
    return plans


async def test_a_search_is_planned_for_its_words_every_time(crowded: AsyncEngine) -> None:
    """No single plan suits every search: a common word is best found by walking the
    owner's newest notes, a rare one through the GIN index. A generic plan (which
    PostgreSQL may switch a prepared statement to after five runs) is one of them for all
    words, and 10-50 times too slow for the others; the engine has every execution planned
    for its own parameters."""
    where = NoteFilter(search=parse_query("word42"))
    common, rare = "x636f6d6d6f6e", "x776f72643432"  # "common", "word42", encoded
    generic = await _prepared_plans(crowded, where, [common, rare], mode="force_generic_plan")
    assert generic[0] == generic[1]
    assert "$1" in generic[0], "a generic plan does not know the words"
    async with crowded.connect() as connection:
        setting = await connection.exec_driver_sql("SHOW plan_cache_mode")
        assert setting.scalar() == "force_custom_plan"
    common_plan, rare_plan, common_again = await _prepared_plans(
        crowded, where, [common, rare, common]
    )
    for plan in (common_plan, common_again):
        assert "Index Scan Backward using ix_notes_owner_id_created_date_id" in plan, plan
        assert "ix_notes_search_vector" not in plan, plan
    assert "Bitmap Index Scan on ix_notes_search_vector" in rare_plan, rare_plan
