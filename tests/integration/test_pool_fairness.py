"""More units of work at once than the pool has connections: each waits its turn, in the
order it came, and none waits anywhere near the pool's timeout."""

from __future__ import annotations

import asyncio
import time

from adapters.sqlalchemy import SqlDatabase, create_engine
from tests.support import ALICE, make_note, register_owners

POOL_SIZE, MAX_OVERFLOW, POOL_TIMEOUT = 5, 5, 2.0
PERMITS = POOL_SIZE + MAX_OVERFLOW


async def test_an_overloaded_pool_serves_every_unit_of_work_in_turn(
    postgres_database: SqlDatabase, postgres_url: str
) -> None:
    """``postgres_database``: the shared database, emptied."""
    engine = create_engine(
        postgres_url, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW, pool_timeout=POOL_TIMEOUT
    )
    try:
        database = SqlDatabase(engine)
        await register_owners(database.unit_of_work)
        note = make_note()
        async with database.unit_of_work() as uow:
            await uow.notes.add(note)
            await uow.commit()
        waits: list[float] = []

        async def worker() -> None:
            until = time.monotonic() + 1.0
            while time.monotonic() < until:
                asked = time.monotonic()
                async with database.unit_of_work() as uow:
                    waits.append(time.monotonic() - asked)
                    assert await uow.notes.get(ALICE, note.id) == note
                    await asyncio.sleep(0.002)  # holds its connection a little

        async with asyncio.timeout(30):
            await asyncio.gather(*(worker() for _ in range(PERMITS + 10)))
    finally:
        await engine.dispose()
    assert len(waits) > 2 * (PERMITS + 10)
    assert max(waits) < POOL_TIMEOUT / 4, sorted(waits)[-5:]
