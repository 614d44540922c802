"""``notes db copy`` from SQLite to PostgreSQL: notes per second and the copying process's
peak RSS, at two sizes (flat memory means the two peaks are close).

The SQLite source is migrated by the service, then seeded directly with multi-row
``INSERT``s, 1,000 rows a statement, one transaction per 100,000 notes: 100 users, each
note with the revision the service keeps of it. The copy runs as a real ``notes db copy``
process into a new PostgreSQL database (``TEST_DATABASE_URL``'s server, or an embedded
one); its summary gives the copy's and the verification's times.

    .venv/bin/python -m bench.copy [--notes 1000000] [--small 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from sqlalchemy.engine import make_url

from adapters.embedded_postgres import EmbeddedPostgres
from adapters.sqlalchemy.migrate import upgrade
from adapters.sqlalchemy.notes import note_row
from adapters.system import Uuid7Factory
from domain import Description, Note, Tags, Title
from domain.search import encode
from tests.databases import scratch_database_blocking

USERS = 100
ROWS_PER_STATEMENT = 1000
NOTES_PER_TRANSACTION = 100_000
_NOTE_COLUMNS = (
    "id",
    "owner_id",
    "title",
    "description",
    "tags",
    "created_date",
    "updated_date",
    "version",
    "search_title",
    "search_body",
)
_REVISION_COLUMNS = (
    "owner_id",
    "note_id",
    "version",
    "title",
    "description",
    "tags",
    "updated_date",
)


def _when(moment: datetime) -> str:
    """SQLAlchemy's SQLite storage format of a UTC timestamp (``UtcDateTime``)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _insert(
    connection: sqlite3.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple[object, ...]],
) -> None:
    one = "(" + ", ".join("?" * len(columns)) + ")"
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        # Table and column names are this module's constants; the values are parameters.
        head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608
        sql = head + ", ".join([one] * len(chunk))
        connection.execute(sql, [value for row in chunk for value in row])


def seed(path: Path, notes: int) -> None:
    """A migrated SQLite database at ``path`` holding ``notes`` notes of ``USERS`` users."""
    upgrade(f"sqlite:///{path}")
    ids, start = Uuid7Factory(), datetime(2025, 1, 1, tzinfo=UTC)
    owners = [ids.new_id() for _ in range(USERS)]
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        _insert(
            connection,
            "users",
            ("id", "username", "username_key", "password_hash", "created_date"),
            [
                (
                    owner.hex,
                    f"user{n}",
                    f"user{n}",
                    f"$argon2id$v=19$m=65536,t=3,p=4$bench{n}",
                    _when(start),
                )
                for n, owner in enumerate(owners)
            ],
        )
        connection.execute("COMMIT")
        # One note's row is made by the adapter; the others differ from it only in their
        # number, id, owner and dates, so their search columns are made the same way by hand.
        template = note_row(_note(ids.new_id(), owners[0], 0, start))
        body = template["search_body"].split(" ")
        title_word = template["search_title"].split(" ")[0]
        for first in range(0, notes, NOTES_PER_TRANSACTION):
            note_rows, revision_rows = [], []
            for i in range(first, min(first + NOTES_PER_TRANSACTION, notes)):
                number = encode(str(i))
                when = _when(start + timedelta(milliseconds=i))
                note_id, owner = ids.new_id().hex, owners[i % USERS].hex
                title = f"note {i}"
                description = f"body of note {i}: " + "lorem ipsum dolor sit amet " * 4
                tags = json.dumps(["bench", f"t{i % 10}"])
                search_body = " ".join([*body[:3], number, *body[4:]])
                note_rows.append(
                    (note_id, owner, title, description, tags, when, when, 1,
                     f"{title_word} {number}", search_body)
                )  # fmt: skip
                revision_rows.append((owner, note_id, 1, title, description, tags, when))
            connection.execute("BEGIN")
            _insert(connection, "notes", _NOTE_COLUMNS, note_rows)
            _insert(connection, "note_revisions", _REVISION_COLUMNS, revision_rows)
            connection.execute("COMMIT")
    finally:
        connection.close()


def _note(note_id: UUID, owner: UUID, i: int, start: datetime) -> Note:
    return Note.create(
        id=note_id,
        owner_id=owner,
        title=Title(f"note {i}"),
        description=Description(f"body of note {i}: " + "lorem ipsum dolor sit amet " * 4),
        tags=Tags(("bench", f"t{i % 10}")),
        now=start + timedelta(milliseconds=i),
    )


def _high_water_kb(pid: int) -> int:
    """The peak resident memory of process ``pid`` so far, in kB (0 once it has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found[1]) if found else 0


@contextmanager
def _postgres_server(scratch: Path) -> Iterator[str]:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    server = EmbeddedPostgres(scratch / "postgres", database="postgres")
    server.start()
    try:
        yield server.url
    finally:
        server.destroy()


def copy(source: str, target: str, scratch: Path) -> dict[str, float]:
    """Run ``notes db copy`` in a process of its own; its figures, with its own peak RSS.

    The peak is the kernel's high-water mark of the process's memory (``VmHWM``), read
    every 0.2 s while it runs. Not ``wait4``'s ``ru_maxrss``: the kernel carries into it,
    across ``exec``, the peak of the process that started it, here this one, whose peak
    (the seeding's rows) would be reported instead of the copy's.
    """
    out_path, err_path = scratch / "copy.out", scratch / "copy.err"
    started = time.monotonic()
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "db", "copy", source, target],
            stdout=out,
            stderr=err,
        )
        peak_kb = 0
        while process.poll() is None:
            peak_kb = max(peak_kb, _high_water_kb(process.pid))
            time.sleep(0.2)
    wall = time.monotonic() - started
    stdout, stderr = out_path.read_text(), err_path.read_text()
    if process.returncode != 0:
        raise SystemExit(f"notes db copy failed ({process.returncode}): {stderr}{stdout}")
    times = re.search(r"in ([\d.]+) s, verified in ([\d.]+) s", stdout)
    rate = re.search(r"([\d,]+) notes copied at ([\d,]+) notes/s", stdout)
    if times is None or rate is None:
        raise SystemExit(f"no figures in the summary: {stdout}")
    print(stdout, end="", flush=True)
    return {
        "notes": float(rate[1].replace(",", "")),
        "copy_s": float(times[1]),
        "verify_s": float(times[2]),
        "notes_per_s": float(rate[2].replace(",", "")),
        "wall_s": wall,
        "peak_rss_mb": peak_kb / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    args = parser.parse_args()
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-copy-") as scratch,
        _postgres_server(Path(scratch)) as server,
    ):
        for size in sorted({args.small, args.notes} - {0}):
            path = Path(scratch) / f"source-{size}.sqlite3"
            seeding = time.monotonic()
            seed(path, size)
            print(f"seeded {size:,} notes in {time.monotonic() - seeding:.1f} s", flush=True)
            with scratch_database_blocking(
                make_url(server).set(drivername="postgresql+asyncpg")
            ) as target:
                results.append(copy(f"sqlite:///{path}", target, Path(scratch)))
            path.unlink()
            r = results[-1]
            print(f"peak RSS {r['peak_rss_mb']:.1f} MB, wall {r['wall_s']:.1f} s", flush=True)
    lines = [
        "| notes | copy | notes/s | verification | wall | peak RSS of `notes db copy` |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {int(r['notes']):,} | {r['copy_s']:.1f} s | {r['notes_per_s']:,.0f} | "
            f"{r['verify_s']:.1f} s | {r['wall_s']:.1f} s | {r['peak_rss_mb']:.1f} MB |"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
