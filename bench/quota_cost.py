"""What the per-user quota costs a create: ``Notes.create_note`` on PostgreSQL with the
quota triggers of migration 0004 enabled and disabled, alternately (A/B/A/B).

    .venv/bin/python -m bench.quota_cost [--notes 2000] [--rounds 4]

Prints the median latency of a create with and without the triggers (the triggers run in
the INSERT itself, so the number of round trips is the same either way). Uses
BENCH_DATABASE_URL if set (it creates and drops a database there), else an embedded
PostgreSQL in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime

import sqlalchemy as sa

from adapters.sqlalchemy import SqlDatabase, create_engine
from adapters.sqlalchemy.quota import set_quota
from adapters.system import SystemClock, Uuid7Factory
from application import NoteDraft, Notes
from application.quota import Quota
from bench.listing import _database
from domain import User, Username
from tests.databases import migrated


async def _round(notes: Notes, owner: User, count: int) -> float:
    times = []
    for n in range(count):
        started = time.perf_counter()
        await notes.create_note(owner.id, NoteDraft(title=f"note {n}", description="x" * 200))
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def _main(count: int, rounds: int) -> None:
    async with _database() as url:
        await migrated(url)
        engine = create_engine(url)
        await set_quota(engine, Quota(max_notes=10**9, max_bytes=10**15))
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
        notes = Notes(database.unit_of_work, SystemClock(), Uuid7Factory())
        await _round(notes, owner, 200)  # warm up
        results: dict[str, list[float]] = {"with": [], "without": []}
        for n in range(rounds * 2):
            case = "with" if n % 2 == 0 else "without"
            toggle = "ENABLE" if case == "with" else "DISABLE"
            async with engine.begin() as connection:
                await connection.execute(sa.text(f"ALTER TABLE notes {toggle} TRIGGER notes_usage"))
            results[case].append(await _round(notes, owner, count))
        await engine.dispose()
    for case, medians in results.items():
        print(f"create, {case} the quota triggers: median {statistics.median(medians):.3f} ms")
    ratio = statistics.median(results["with"]) / statistics.median(results["without"])
    print(f"with / without: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    arguments = parser.parse_args()
    asyncio.run(_main(arguments.notes, arguments.rounds))


if __name__ == "__main__":
    main()
