"""What revisions cost on disk: 100,000 notes with 10 versions each, on PostgreSQL.

    .venv/bin/python -m bench.revision_storage [--notes 100000] [--versions 10]
                                               [--results bench/results-revisions.md]

Seeds a scratch database (embedded, or on ``BENCH_DATABASE_URL``) with ``--notes`` notes of
one user, each at version ``--versions`` with every version kept as a revision (rows shaped
as the service writes them: ``adapters.sqlalchemy.revisions.revision_row``), the content of
``bench.http_load``'s notes (a title, eight words, one tag). Then it VACUUMs and ANALYZEs
and reports the sizes of ``note_revisions`` (heap and TOAST) and its primary key, next to
those of ``notes``, per revision and per note.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import sqlalchemy as sa

from adapters.sqlalchemy import create_engine
from adapters.sqlalchemy.notes import note_row
from adapters.sqlalchemy.revisions import REVISION_COLUMNS, revision_row
from adapters.sqlalchemy.tables import notes
from adapters.system import Uuid7Factory
from bench.http_load import VOCABULARY, commit
from bench.listing import _database
from domain import Description, Note, Tags, Title
from tests.databases import migrated

HERE = Path(__file__).parent
_BATCH = 10_000


async def _seed(url: str, count: int, versions: int) -> None:
    rng = random.Random(1)
    ids = Uuid7Factory()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    owner = uuid4()
    note_columns = [c.name for c in notes.c if c.name != "search_vector"]
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.execute(
            sa.text(
                "INSERT INTO users (id, username, username_key, password_hash, created_date) "
                "VALUES (:id, 'bench', 'bench', 'x', now())"
            ),
            {"id": owner},
        )
        await connection.commit()
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        for first in range(0, count, _BATCH):
            note_records, revision_records = [], []
            for i in range(first, min(count, first + _BATCH)):
                note = Note.create(
                    id=ids.new_id(),
                    owner_id=owner,
                    title=Title(f"note {i}"),
                    description=Description(" ".join(rng.sample(VOCABULARY, 8))),
                    tags=Tags((f"t{i % 100}",)),
                    now=start + timedelta(seconds=i),
                )
                for version in range(1, versions + 1):
                    if version > 1:
                        words = " ".join(rng.sample(VOCABULARY, 8))
                        note = note.edited(
                            now=note.updated_date + timedelta(minutes=1),
                            description=Description(words),
                        )
                    row = revision_row(note)
                    revision_records.append(tuple(row[c] for c in REVISION_COLUMNS))
                stored = note_row(note)
                note_records.append(tuple(stored[c] for c in note_columns))
            await raw.copy_records_to_table("notes", records=note_records, columns=note_columns)
            await raw.copy_records_to_table(
                "note_revisions", records=revision_records, columns=list(REVISION_COLUMNS)
            )
            print(f"  {min(count, first + _BATCH):,} notes", flush=True)
    await engine.dispose()


_SIZES = """
SELECT pg_relation_size(c.oid) AS heap,
       coalesce(pg_total_relation_size(c.reltoastrelid), 0) AS toast,
       pg_indexes_size(c.oid) AS indexes,
       pg_total_relation_size(c.oid) AS total
FROM pg_class AS c WHERE c.relname = :name
"""


async def _sizes(url: str) -> dict[str, dict[str, int]]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(sa.text("VACUUM ANALYZE notes"))
        await autocommit.execute(sa.text("VACUUM ANALYZE note_revisions"))
        found = {}
        for name in ("notes", "note_revisions"):
            row = (await connection.execute(sa.text(_SIZES), {"name": name})).mappings().one()
            found[name] = dict(row)
    await engine.dispose()
    return found


def _mb(size: int) -> str:
    return f"{size / 2**20:,.1f} MB"


async def _main(options: argparse.Namespace) -> None:
    measured_on = commit()
    async with _database() as url:
        await migrated(url)
        await _seed(url, options.notes, options.versions)
        sizes = await _sizes(url)
    revisions = options.notes * options.versions
    kept = sizes["note_revisions"]
    lines = [
        "# Revisions on disk (PostgreSQL)",
        "",
        f"Command: `.venv/bin/python -m bench.revision_storage --notes {options.notes} "
        f"--versions {options.versions}`  ",
        f"Commit: {measured_on}; measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}  ",
        f"{options.notes:,} notes of one user, {options.versions} versions each, every version "
        f"kept: {revisions:,} revisions. Content as in `bench.http_load`: a title, eight "
        "words, one tag; each version a new description. After VACUUM ANALYZE.",
        "",
        "| table | heap | TOAST | indexes | total | per row |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, rows in (("notes", options.notes), ("note_revisions", revisions)):
        size = sizes[name]
        lines.append(
            f"| `{name}` | {_mb(size['heap'])} | {_mb(size['toast'])} | "
            f"{_mb(size['indexes'])} | {_mb(size['total'])} | {size['total'] / rows:,.0f} B |"
        )
    lines += [
        "",
        f"- Per revision: {kept['total'] / revisions:,.0f} bytes in all "
        f"({kept['heap'] / revisions:,.0f} B heap, {kept['indexes'] / revisions:,.0f} B of "
        "primary key).",
        f"- Per note with {options.versions} versions: {kept['total'] / options.notes:,.0f} "
        f"bytes of revisions, {kept['total'] / sizes['notes']['total']:.1f} times what the note "
        "itself takes with its indexes.",
        "",
    ]
    table = "\n".join(lines)
    print(table)
    Path(options.results).write_text(table)  # noqa: ASYNC240
    print(f"written to {options.results}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--results", default=str(HERE / "results-revisions.md"))
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
