"""The owner-keyed migrations at scale on PostgreSQL: how long revision 0002's per-owner
backfill and revision 0005's re-keying take with existing data.

Seeds ``--users`` users with ``--notes`` notes each, two refresh tokens and two failed logins
each, then times ``upgrade 0001 -> 0002`` (the backfill computes every note's search tokens,
one owner at a time) and ``0003 -> 0005`` (new keys, failed logins copied per username).

    .venv/bin/python -m bench.owner_keys [--users 1000] [--notes 100]

Uses BENCH_DATABASE_URL if set (it creates and drops a database there), else an embedded
PostgreSQL in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sqlalchemy.migrate import upgrade
from bench.listing import _database

AT = datetime(2026, 11, 22, tzinfo=UTC)


async def _seed(url: str, users: int, notes: int) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            owners = [uuid.uuid4() for _ in range(users)]
            await connection.execute(
                sa.text(
                    "INSERT INTO users (id, username, username_key, password_hash, created_date)"
                    " VALUES (:id, :name, :name, 'x', :at)"
                ),
                [{"id": o, "name": f"u{n}", "at": AT} for n, o in enumerate(owners)],
            )
            await connection.execute(
                sa.text(
                    "INSERT INTO notes (id, owner_id, title, description, tags, created_date,"
                    " updated_date, version) VALUES (:id, :owner, :title, 'milk and eggs',"
                    " '{home}', :at, :at, 1)"
                ),
                [
                    {"id": uuid.uuid4(), "owner": o, "title": f"note {n} of {o}", "at": AT}
                    for o in owners
                    for n in range(notes)
                ],
            )
            await connection.execute(
                sa.text(
                    "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, issued_at,"
                    " expires_at) VALUES (:id, :user, :id, :hash, :at, :until)"
                ),
                [
                    {
                        "id": (i := uuid.uuid4()),
                        "user": o,
                        "hash": i.hex * 2,
                        "at": AT,
                        "until": AT + timedelta(days=30),
                    }
                    for o in owners
                    for _ in range(2)
                ],
            )
            await connection.execute(
                sa.text("INSERT INTO login_failures (username_key, failed_at) VALUES (:k, :at)"),
                [
                    {"k": f"u{n}", "at": AT + timedelta(seconds=s)}
                    for n in range(users)
                    for s in (1, 2)
                ],
            )
    finally:
        await engine.dispose()


async def _timed(url: str, revision: str) -> float:
    started = time.perf_counter()
    await asyncio.to_thread(upgrade, url, revision)
    return time.perf_counter() - started


async def main(users: int, notes: int) -> None:
    async with _database() as url:
        await asyncio.to_thread(upgrade, url, "0001")
        await _seed(url, users, notes)
        backfill = await _timed(url, "0002")
        await asyncio.to_thread(upgrade, url, "0003")
        rekey = await _timed(url, "0005")
    total = users * notes
    print(f"{users:,} users, {total:,} notes, {2 * users:,} tokens, {2 * users:,} failed logins")
    print(f"0001 -> 0002 (per-owner backfill): {backfill:.2f} s ({total / backfill:,.0f} notes/s)")
    print(f"0003 -> 0005 (owner keys):         {rekey:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--notes", type=int, default=100)
    options = parser.parse_args()
    asyncio.run(main(options.users, options.notes))
