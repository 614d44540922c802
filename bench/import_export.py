"""Import throughput and export memory, on PostgreSQL.

Import: 1,000-note batches through the import use case (validation, one multi-row INSERT,
one transaction), against asyncpg's ``copy_records_to_table`` writing the same rows, the
fastest way in. Export: the peak memory (VmHWM) of a real ``notes serve`` process streaming
20,000 and then 200,000 notes as NDJSON; flat means the two peaks are within 1.5x.

    .venv/bin/python -m bench.import_export [--batches 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx

from adapters.embedded_postgres import EmbeddedPostgres
from adapters.sqlalchemy import SqlDatabase, create_engine
from adapters.sqlalchemy.notes import note_row
from adapters.sqlalchemy.tables import notes
from adapters.system import SystemClock, Uuid7Factory
from application import NoteDraft, Notes
from domain import Description, Note, Tags, Title
from tests.databases import migrated
from tests.e2e.server import ServerProcess

ACCOUNT = {"username": "bench", "password": "bench password 123"}
KEY = "bench-signing-key-Vq7wJ2nR9xKp4LzT8mYc3HdF6gBs0eUa"
COLUMNS = [c.name for c in notes.c if c.name != "search_vector"]


def _drafts(batch: int) -> list[NoteDraft]:
    return [
        NoteDraft(
            f"note {batch}-{i}", f"imported body {i} with some words", ("import", f"b{batch}")
        )
        for i in range(1000)
    ]


def _records(owner: UUID, count: int, first: int = 0) -> list[tuple[object, ...]]:
    ids, start = Uuid7Factory(), datetime(2025, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(first, first + count):
        note = Note.create(
            id=ids.new_id(),
            owner_id=owner,
            title=Title(f"note {i}"),
            description=Description(f"exported body {i} " + "lorem ipsum " * 8),
            tags=Tags(("export",)),
            now=start + timedelta(seconds=i),
        )
        row = note_row(note)
        rows.append(tuple(row[c] for c in COLUMNS))
    return rows


async def _copy(database: SqlDatabase, records: list[tuple[object, ...]]) -> None:
    async with database.engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.copy_records_to_table("notes", records=records, columns=COLUMNS)
        await connection.commit()


async def _import_throughput(url: str, owner: UUID, batches: int) -> tuple[float, float]:
    engine = create_engine(url)
    database = SqlDatabase(engine)
    service = Notes(database.unit_of_work, SystemClock(), Uuid7Factory())
    imported, copied = [], []
    for batch in range(batches):
        started = time.perf_counter()
        await service.import_notes(owner, _drafts(batch))
        imported.append(1000 / (time.perf_counter() - started))
        records = _records(owner, 1000, first=batch * 1000)
        started = time.perf_counter()
        await _copy(database, records)
        copied.append(1000 / (time.perf_counter() - started))
    await engine.dispose()
    return statistics.median(imported), statistics.median(copied)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


async def _export_peak(url: str, owner: UUID, count: int) -> tuple[float, float, float]:
    engine = create_engine(url)
    database = SqlDatabase(engine)
    async with database.engine.begin() as connection:
        await connection.execute(notes.delete())
    for first in range(0, count, 50_000):
        await _copy(database, _records(owner, min(50_000, count - first), first))
    await engine.dispose()
    env = {"NOTES_DATABASE_URL": url, "NOTES_SECRET_KEY": KEY, "NOTES_LOG_LEVEL": "warning"}
    server = ServerProcess(env).start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=600) as http:
            token = (await http.post("/auth/token", data=ACCOUNT)).json()["access_token"]
            http.headers["Authorization"] = f"Bearer {token}"
            await http.get("/notes/?limit=500")
            before = _peak_rss_mb(server.pid)
            lines, started = 0, time.perf_counter()
            async with http.stream("GET", "/notes/export") as response:
                async for line in response.aiter_lines():
                    lines += bool(line)
            elapsed = time.perf_counter() - started
            assert lines == count, (lines, count)
            return before, _peak_rss_mb(server.pid), elapsed
    finally:
        server.stop()


async def _main(batches: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        embedded = EmbeddedPostgres(Path(scratch) / "pg")
        url = embedded.start()
        try:
            await migrated(url)
            bootstrap = ServerProcess({"NOTES_DATABASE_URL": url, "NOTES_SECRET_KEY": KEY}).start()
            try:
                async with httpx.AsyncClient(base_url=bootstrap.base_url) as http:
                    (await http.post("/users/", json=ACCOUNT)).raise_for_status()
                    session = (await http.post("/auth/token", data=ACCOUNT)).json()
                    http.headers["Authorization"] = f"Bearer {session['access_token']}"
                    owner = UUID((await http.get("/users/me")).json()["id"])
            finally:
                bootstrap.stop()
            service_rate, copy_rate = await _import_throughput(url, owner, batches)
            print(f"import, 1,000-note batches, median of {batches}:")
            print(f"  import use case          {service_rate:9,.0f} notes/s")
            print(f"  copy_records_to_table    {copy_rate:9,.0f} notes/s")
            print(f"  ratio                    {service_rate / copy_rate:9.2f}")
            peaks = {}
            for count in (20_000, 200_000):
                before, after, elapsed = await _export_peak(url, owner, count)
                peaks[count] = after
                rate = count / elapsed
                print(
                    f"export {count:>7,} notes: peak RSS {before:6.1f} MB before, "
                    f"{after:6.1f} MB after ({elapsed:.1f} s, {rate:,.0f} notes/s)"
                )
            print(f"export peak, 200,000 / 20,000: {peaks[200_000] / peaks[20_000]:.2f}x")
        finally:
            embedded.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    asyncio.run(_main(parser.parse_args().batches))


if __name__ == "__main__":
    os.environ.pop("NOTES_DATABASE_URL", None)
    main()
