"""Listing and search at scale: one user with 500,000 notes on PostgreSQL.

Reports the median latency (through the use case, as the API runs it) of page 1 and page
10,000 (50 notes a page) by cursor and by skip, and of a selective and a common search word.
The cursor's deep page should cost what its first page does.

With ``--sharing``: 100 owners and a grantee among 500,000 notes, 100,000 of them shared
with the grantee (1,000 from each owner) and 100,000 the grantee's own; it compares the
grantee's ``GET /shared/`` (``Sharing.find_shared``) with the grantee's own listing, page 1
and a deep page by cursor.

    .venv/bin/python -m bench.listing [--notes 500000] [--runs 20] [--sharing]

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
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.embedded_postgres import EmbeddedPostgres
from adapters.sqlalchemy import SqlDatabase, create_engine
from adapters.sqlalchemy.notes import note_row
from adapters.sqlalchemy.tables import note_shares, notes, shared_notes
from adapters.system import SystemClock, Uuid7Factory
from application import NoteQuery, Notes, Position
from application.sharing import Sharing
from domain import Description, Note, Tags, Title, User, Username
from tests.databases import migrated, scratch_postgres_database

PAGE = 50
VOCABULARY = [f"w{n}" for n in range(20_000)]


@asynccontextmanager
async def _database(seeded: str | None = None) -> AsyncIterator[str]:
    """A scratch database, dropped afterwards; or, with ``seeded``, the database of that
    name on BENCH_DATABASE_URL's server, created if missing and kept."""
    configured = os.environ.get("BENCH_DATABASE_URL")
    if seeded is not None:
        if not configured:
            raise SystemExit("--seeded needs BENCH_DATABASE_URL")
        server = make_url(configured).set(drivername="postgresql+asyncpg")
        admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            exists = await connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": seeded}
            )
            if not exists:
                await connection.execute(sa.text(f'CREATE DATABASE "{seeded}"'))
        await admin.dispose()
        yield server.set(database=seeded).render_as_string(hide_password=False)
        return
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


async def _seed(
    database: SqlDatabase,
    owner: User,
    count: int,
    *,
    owners: list[User] | None = None,
    grantee: User | None = None,
    shared_each: int = 0,
) -> None:
    """``count`` notes by COPY: ``owner``'s, or spread evenly over ``owners``, the first
    ``shared_each`` of each of them shared with ``grantee`` (both share tables, by COPY)."""
    randomness = random.Random(1)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    ids = Uuid7Factory()
    columns = [c.name for c in notes.c if c.name != "search_vector"]
    every = owners or [owner]
    per_owner = count // len(every)
    async with database.engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        for first in range(0, count, 50_000):
            records, shares, index = [], [], []
            for i in range(first, min(count, first + 50_000)):
                words = randomness.sample(VOCABULARY, 8) + (["common"] if i % 2 else [])
                whose = every[i // per_owner] if i // per_owner < len(every) else every[-1]
                moment = start + timedelta(seconds=i)
                note = Note.create(
                    id=ids.new_id(),
                    owner_id=whose.id,
                    title=Title(f"note {i}"),
                    description=Description(" ".join(words)),
                    tags=Tags((f"t{i % 1000}",)),
                    now=moment,
                )
                row = note_row(note)
                records.append(tuple(row[c] for c in columns))
                if grantee is not None and whose is not grantee and i % per_owner < shared_each:
                    shares.append((whose.id, note.id, grantee.id, "read", moment))
                    index.append((grantee.id, note.id, whose.id, "read", moment))
            await raw.copy_records_to_table("notes", records=records, columns=columns)
            if shares:
                await raw.copy_records_to_table(
                    "note_shares", records=shares, columns=[c.name for c in note_shares.c]
                )
                await raw.copy_records_to_table(
                    "shared_notes", records=index, columns=[c.name for c in shared_notes.c]
                )
        for table in ("notes", "note_shares", "shared_notes"):
            await connection.execute(sa.text(f"ANALYZE {table}"))
        await connection.commit()


def _user(name: str) -> User:
    return User(
        id=Uuid7Factory().new_id(),
        username=Username(name),
        password_hash="-",
        created_date=datetime.now(UTC),
    )


async def _sharing_main(count: int, runs: int, seeded: str | None) -> None:
    """The grantee's shared listing against the grantee's own listing of as many notes."""
    owners = [_user(f"owner{n}") for n in range(100)]
    grantee = _user("grantee")
    own = count // 5
    shared_each = own // len(owners)
    async with _database(seeded) as url:
        await migrated(url)
        # Seeding is one long COPY per batch: no statement timeout.
        engine = create_engine(url, statement_timeout=None)
        database = SqlDatabase(engine)
        async with database.unit_of_work() as uow:
            found = await uow.users.get_by_username(grantee.username.key)
        if found is not None:
            # Seeded by an earlier run (--seeded): the same users, found by name.
            async with database.unit_of_work() as uow:
                grantee = found
                owners = [
                    user
                    for owner in owners
                    if (user := await uow.users.get_by_username(owner.username.key)) is not None
                ]
            print(f"reusing the notes seeded in {url}")
        else:
            async with database.unit_of_work() as uow:
                for user in (*owners, grantee):
                    await uow.users.add(user)
                await uow.commit()
            started = time.perf_counter()
            # The grantee's own notes are a fifth of the whole; each owner has as many.
            await _seed(
                database,
                grantee,
                count,
                owners=[*owners, *([grantee] * (len(owners) // 4))],
                grantee=grantee,
                shared_each=shared_each,
            )
            print(
                f"seeded {count:,} notes ({own:,}-ish the grantee's own, "
                f"{shared_each * len(owners):,} shared with the grantee) "
                f"in {time.perf_counter() - started:.1f} s"
            )
        service = Notes(database.unit_of_work, SystemClock(), Uuid7Factory())
        sharing = Sharing(database.unit_of_work, SystemClock(), Uuid7Factory())

        # The deep pages: the last whole page of each listing, found by the database.
        deep_skip = shared_each * len(owners) - 2 * PAGE
        async with engine.connect() as connection:
            mine = (
                await connection.execute(
                    sa.select(notes.c.created_date, notes.c.id)
                    .where(notes.c.owner_id == grantee.id)
                    .order_by(notes.c.created_date.desc(), notes.c.id.desc())
                    .offset(deep_skip)
                    .limit(1)
                )
            ).one()
            theirs = (
                await connection.execute(
                    sa.select(shared_notes.c.note_created_date, shared_notes.c.note_id)
                    .where(shared_notes.c.grantee_id == grantee.id)
                    .order_by(
                        shared_notes.c.note_created_date.desc(), shared_notes.c.note_id.desc()
                    )
                    .offset(deep_skip)
                    .limit(1)
                )
            ).one()
        own_deep = Position(moment=mine[0], id=mine[1])
        shared_deep = Position(moment=theirs[0], id=theirs[1])

        def own_page(**query: Any) -> Callable[[], Awaitable[Any]]:
            return lambda: service.find_notes(grantee.id, NoteQuery(limit=PAGE, **query))

        def shared_page(**query: Any) -> Callable[[], Awaitable[Any]]:
            return lambda: sharing.find_shared(grantee.id, NoteQuery(limit=PAGE, **query))

        selective = VOCABULARY[123]
        pairs = {
            "page 1 by cursor": (own_page(), shared_page()),
            "deep page by cursor": (own_page(after=own_deep), shared_page(after=shared_deep)),
            f"selective word ({selective})": (
                own_page(text=selective),
                shared_page(text=selective),
            ),
            "tag t7": (own_page(tags=["t7"]), shared_page(tags=["t7"])),
        }
        figures = {}
        for name, (mine, theirs) in pairs.items():
            figures[name] = await _paired_ms(runs, mine, theirs)
        assert len((await shared_page(after=shared_deep)()).notes) == PAGE
        await engine.dispose()
    print(
        f"a grantee among {count:,} notes, {PAGE} a page; {runs} runs of each, own and shared "
        "alternating; medians, and the median of the runs' shared/own ratios"
    )
    print(f"  {'':36} {'own':>9}    {'shared':>9}   shared/own  median ratio")
    for name, (mine_ms, theirs_ms, ratio) in figures.items():
        print(
            f"  {name:36} {mine_ms:9.2f} ms {theirs_ms:9.2f} ms  {theirs_ms / mine_ms:5.2f}x"
            f"       {ratio:5.2f}x"
        )


async def _paired_ms(
    runs: int, mine: Callable[[], Awaitable[Any]], theirs: Callable[[], Awaitable[Any]]
) -> tuple[float, float, float]:
    """The median latency of ``mine`` and of ``theirs``, run alternately (so that a slow
    moment of a shared machine falls on both alike), and the median of the pairs' ratios."""
    await mine()
    await theirs()
    pairs = []
    for _ in range(runs):
        started = time.perf_counter()
        await mine()
        middle = time.perf_counter()
        await theirs()
        pairs.append((middle - started, time.perf_counter() - middle))
    return (
        statistics.median(a for a, _ in pairs) * 1e3,
        statistics.median(b for _, b in pairs) * 1e3,
        statistics.median(b / a for a, b in pairs),
    )


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
    parser.add_argument("--sharing", action="store_true", help="the grantee's shared listing")
    parser.add_argument(
        "--seeded",
        metavar="NAME",
        help="with --sharing: keep the seeded notes in database NAME on BENCH_DATABASE_URL's "
        "server, and reuse them if it holds them already",
    )
    options = parser.parse_args()
    if options.sharing:
        asyncio.run(_sharing_main(options.notes, options.runs, options.seeded))
    else:
        asyncio.run(_main(options.notes, options.runs))


if __name__ == "__main__":
    main()
