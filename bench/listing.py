"""Listing and search at scale: one user with 500,000 notes on PostgreSQL.

Reports the median latency (through the use case, as the API runs it) of page 1 and page
10,000 (50 notes a page) by cursor and by skip, and of a selective and a common search word.
The cursor's deep page should cost what its first page does.

    .venv/bin/python -m bench.listing [--notes 500000] [--runs 20]

Uses BENCH_DATABASE_URL if set (it creates and drops a database there), else an embedded
PostgreSQL in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from adapters.embedded_postgres import EmbeddedPostgres
from adapters.sqlalchemy import SqlDatabase, create_engine
from adapters.sqlalchemy.notes import note_row
from adapters.sqlalchemy.tables import notes
from adapters.system import SystemClock, Uuid7Factory
from application import NoteQuery, Notes, Position
from domain import Description, Note, Tags, Title, User, Username
from tests.databases import migrated, scratch_postgres_database

PAGE = 50
VOCABULARY = [f"w{n}" for n in range(20_000)]


@asynccontextmanager
async def _database() -> AsyncIterator[str]:
    configured = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as scratch:
        server = None
        if configured:
            url = make_url(configured).set(drivername="postgresql+asyncpg")
        else:
            server = EmbeddedPostgres(Path(scratch) / "pg", database="postgres")
            url = make_url(server.start())
        try:
            async with scratch_postgres_database(url) as database_url:
                yield database_url
        finally:
            if server is not None:
                server.destroy()


async def _seed(database: SqlDatabase, owner: User, count: int) -> None:
    randomness = random.Random(1)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    ids = Uuid7Factory()
    columns = [c.name for c in notes.c if c.name != "search_vector"]
    async with database.engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        for first in range(0, count, 50_000):
            records = []
            for i in range(first, min(count, first + 50_000)):
                words = randomness.sample(VOCABULARY, 8) + (["common"] if i % 2 else [])
                note = Note.create(
                    id=ids.new_id(),
                    owner_id=owner.id,
                    title=Title(f"note {i}"),
                    description=Description(" ".join(words)),
                    tags=Tags((f"t{i % 1000}",)),
                    now=start + timedelta(seconds=i),
                )
                row = note_row(note)
                records.append(tuple(row[c] for c in columns))
            await raw.copy_records_to_table("notes", records=records, columns=columns)
        await connection.execute(sa.text("ANALYZE notes"))
        await connection.commit()


async def _median_ms(runs: int, action: Callable[[], Awaitable[Any]]) -> float:
    await action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e3


async def _main(count: int, runs: int) -> None:
    async with _database() as url:
        await migrated(url)
        engine = create_engine(url)
        database = SqlDatabase(engine)
        owner = User(
            id=Uuid7Factory().new_id(),
            username=Username("bench"),
            password_hash="-",
            created_date=datetime.now(UTC),
        )
        async with database.unit_of_work() as uow:
            await uow.users.add(owner)
            await uow.commit()
        started = time.perf_counter()
        await _seed(database, owner, count)
        print(f"seeded {count:,} notes in {time.perf_counter() - started:.1f} s")
        service = Notes(database.unit_of_work, SystemClock(), Uuid7Factory())
        last_page = count // PAGE
        deep_skip = (last_page - 1) * PAGE
        async with engine.connect() as connection:
            before = (
                await connection.execute(
                    sa.select(notes.c.created_date, notes.c.id)
                    .order_by(notes.c.created_date.desc(), notes.c.id.desc())
                    .offset(deep_skip - 1)
                    .limit(1)
                )
            ).one()
        deep = Position(moment=before.created_date, id=before.id)
        selective = VOCABULARY[123]

        def page(**query: Any) -> Callable[[], Awaitable[Any]]:
            return lambda: service.find_notes(owner.id, NoteQuery(limit=PAGE, **query))

        figures = {
            "page 1 by cursor": await _median_ms(runs, page()),
            f"page {last_page:,} by cursor": await _median_ms(runs, page(after=deep)),
            "page 1 by skip": await _median_ms(runs, page(skip=0)),
            f"page {last_page:,} by skip": await _median_ms(runs, page(skip=deep_skip)),
            f"selective word ({selective})": await _median_ms(runs, page(text=selective)),
            "common word (in half the notes)": await _median_ms(runs, page(text="common")),
            "common word by relevance": await _median_ms(
                runs, page(text="common", order="relevance")
            ),
        }
        deep_page = (await service.find_notes(owner.id, NoteQuery(limit=PAGE, after=deep))).notes
        by_skip = (await service.find_notes(owner.id, NoteQuery(limit=PAGE, skip=deep_skip))).notes
        assert [n.id for n in deep_page] == [n.id for n in by_skip], "cursor and skip disagree"
        await engine.dispose()
    print(f"one user, {count:,} notes, {PAGE} a page; median of {runs} runs")
    for name, ms in figures.items():
        print(f"  {name:36} {ms:9.2f} ms")
    first, last = figures["page 1 by cursor"], figures[f"page {last_page:,} by cursor"]
    print(
        f"deep page / first page, by cursor: {last / first:.2f}x "
        f"(by skip: {figures[f'page {last_page:,} by skip'] / figures['page 1 by skip']:.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()
    asyncio.run(_main(options.notes, options.runs))


if __name__ == "__main__":
    main()
