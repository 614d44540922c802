"""HTTP load: the service against a bare Starlette + asyncpg reference, driven by ``wrk``.

    .venv/bin/python -m bench.http_load [--duration 10] [--rounds 2] [--notes 10000]
                                        [--profile] [--results bench/results.md]

Prepares a PostgreSQL database (an embedded one in a temporary directory, or a scratch
database on ``BENCH_DATABASE_URL``), migrates and seeds it (one user with ``--notes`` notes,
one of them, and only it, holding a selective word), then starts ``notes serve`` (one
uvicorn worker, uvloop and httptools, no access log) and the reference app
(``bench.reference_app``, same uvicorn settings) as real processes, and drives each with
``wrk`` at 32 connections, A/B/A/B, so drift in the machine cancels out. Per workload it
prints requests per second, p50 and p99 for both apps (medians over the rounds) and the
ratio service / reference. It also measures the service worker's peak RSS under the GET
load, the cold start of ``notes serve`` on the embedded database to the first 200 from
``/readyz``, and the wall time of ``tests/unit``, and writes everything to ``--results``.
Where PgBouncer is installed, a third process, the service behind PgBouncer in transaction
mode, takes part in the same rounds and gets a table of its own (``--no-pgbouncer``: not).
Where a MySQL or MariaDB server answers (``BENCH_MYSQL_URL``, or root at 127.0.0.1:3306),
one more, the service on a scratch database there, seeded with the same notes and the same
user, does too (``--no-mysql``: not).

With ``--profile``, one more GET run is recorded with py-spy into ``bench/profile-get.svg``
(flame graph) and ``bench/profile-get.txt`` (the heaviest frames).

``wrk`` comes from the Debian package; when it is missing and this runs as root, it is
installed with apt-get.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from adapters.sqlalchemy import create_engine
from adapters.sqlalchemy.notes import note_row
from adapters.sqlalchemy.tables import notes, users
from adapters.sqlalchemy.urls import database_url
from adapters.system import Uuid7Factory
from bench.listing import _database
from domain import Description, Note, Tags, Title
from tests.databases import migrated, scratch_mysql_database
from tests.e2e.server import NOTES, ServerProcess, free_port
from tests.pgbouncer import pgbouncer_binary, running_pgbouncer

HERE = Path(__file__).parent
ROOT = HERE.parent
WRK_DIR = HERE / "wrk"
CONNECTIONS = 32
THREADS = 2
SELECTIVE = "zanzibar"
VOCABULARY = [f"w{n}" for n in range(5_000)]
UVICORN = str(Path(sys.executable).with_name("uvicorn"))
PATCH_IDS: list[str] = []
"""The notes ``patch.lua`` writes to, set once the database is seeded."""


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass(frozen=True)
class Workload:
    name: str
    path: str
    script: str


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is missing: apt-get install -y wrk (as root)")
    print("installing wrk (apt-get install -y wrk)…", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(binary: str, url: str, script: str, token: str, duration: int) -> Run:
    command = [binary, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency"]
    command += ["-s", str(WRK_DIR / script), url]
    env = {**os.environ, "BENCH_TOKEN": token, "BENCH_IDS": ",".join(PATCH_IDS)}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    out = done.stdout
    if done.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed:\n{out}\n{done.stderr}")
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: .*?timeout (\d+)"):
        found = re.search(pattern, out)
        if found:
            errors += int(found.group(1))
    return Run(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(re.search(r"\s50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        p99_ms=_ms(re.search(r"\s99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        errors=errors,
    )


PATCHED = 1000
"""How many of the seeded notes the PATCH workload spreads its writes over."""


def seed_rows(owner_id: object, count: int) -> tuple[list[dict[str, object]], object, list[str]]:
    """``count`` notes of ``owner_id``'s, eight random words each; note 4321 alone also
    holds ``SELECTIVE``, as rows; the id of a note to GET, and ``PATCHED`` ids to PATCH."""
    rng = random.Random(1)
    ids = Uuid7Factory()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows: list[dict[str, object]] = []
    target: object = None
    patched: list[str] = []
    for i in range(count):
        words = rng.sample(VOCABULARY, 8) + ([SELECTIVE] if i == 4321 else [])
        note = Note.create(
            id=ids.new_id(),
            owner_id=owner_id,  # type: ignore[arg-type]
            title=Title(f"note {i}"),
            description=Description(" ".join(words)),
            tags=Tags((f"t{i % 100}",)),
            now=start + timedelta(seconds=i),
        )
        if i == count // 2:
            target = note.id
        if i % max(1, count // PATCHED) == 0 and len(patched) < PATCHED:
            patched.append(str(note.id))
        rows.append(note_row(note))
    return rows, target, patched


SEEDED: list[dict[str, object]] = []
"""The rows ``seed`` wrote, for ``seed_mysql`` to write the same notes."""


async def seed(url: str, owner_id: object, count: int) -> tuple[object, list[str]]:
    """``seed_rows`` copied into the PostgreSQL database at ``url``."""
    rows, target, patched = seed_rows(owner_id, count)
    SEEDED[:] = rows
    columns = [c.name for c in notes.c if c.name != "search_vector"]
    records = [tuple(row[c] for c in columns) for row in rows]
    engine = create_engine(url)
    async with engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        await raw.copy_records_to_table("notes", records=records, columns=columns)  # type: ignore[union-attr]
        await connection.commit()
        # As autovacuum would, before the runs: VACUUM moves the search index's pending
        # entries (GIN fastupdate) into the index; until then a search scans the table.
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(sa.text("VACUUM ANALYZE notes"))
    await engine.dispose()
    return target, patched


class Reference:
    """``bench.reference_app`` under uvicorn, like ``notes serve`` runs the service."""

    def __init__(self, url: str, secret: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "REFERENCE_DATABASE_URL": url, "REFERENCE_SECRET": secret}
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [UVICORN, "bench.reference_app:create_app", "--factory", "--port", str(self.port),
             "--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log",
             "--no-server-header", "--log-level", "warning"],
            env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base_url}/notes/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the reference app did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self._log.close()


async def mysql_server() -> sa.URL | None:
    """The MySQL server to measure on: ``BENCH_MYSQL_URL``, or root at 127.0.0.1:3306 if
    it answers; ``None`` without one."""
    url = database_url(os.environ.get("BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql"))

    async def ping() -> None:
        engine = create_engine(url, connect_timeout=2.0)
        try:
            async with engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        finally:
            await engine.dispose()

    try:
        await ping()
    except Exception:  # noqa: BLE001 - any failure: no server to measure on
        return None
    return url


async def seed_mysql(url: str, postgres_url: str, owner_id: object) -> None:
    """The bench user (its row, so the same token works) and the notes ``seed`` wrote, in
    MySQL."""
    rows = SEEDED
    source = create_engine(postgres_url)
    async with source.connect() as connection:
        user = (
            (await connection.execute(sa.select(users).where(users.c.id == owner_id)))
            .mappings()
            .one()
        )
    await source.dispose()
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(users.insert(), [dict(user)])
        for start in range(0, len(rows), 2000):
            await connection.execute(notes.insert(), rows[start : start + 2000])
        await connection.execute(sa.text("ANALYZE TABLE notes"))
    await engine.dispose()


def reset_peak_rss(pid: int) -> None:
    """Start the process's peak RSS (VmHWM) afresh from its current RSS (Linux 4.0+)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cold_start() -> float:
    """Seconds from launching ``notes serve`` on a new embedded database (initdb included)
    to the first 200 from ``/readyz``."""
    with tempfile.TemporaryDirectory() as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTES_")}
        env.update(NOTES_DATA_DIR=data_dir, NOTES_LOG_LEVEL="warning")
        port = free_port()
        started = time.perf_counter()
        process = subprocess.Popen(
            [NOTES, "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while time.perf_counter() - started < 120:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        return time.perf_counter() - started
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
            raise RuntimeError("notes serve was not ready within 120 s")
        finally:
            process.terminate()
            process.wait(60)


def unit_tests_wall() -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - started


def login(base_url: str, username: str, password: str) -> str:
    answer = httpx.post(f"{base_url}/auth/token", data={"username": username, "password": password})
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


def profile(
    binary: str, service: ServerProcess, workload: Workload, token: str, duration: int
) -> None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("py-spy is not installed (pip install -e '.[dev]'): no profile")
        return
    common = [py_spy, "record", "--pid", str(service.pid), "--duration", str(duration),
              "--rate", "250", "--nonblocking"]  # fmt: skip
    for fmt, out in (("flamegraph", "profile-get.svg"), ("raw", "profile-get.txt")):
        recorder = subprocess.Popen(
            [*common, "--format", fmt, "-o", str(HERE / out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(0.5)
        wrk(binary, service.base_url + workload.path, workload.script, token, duration)
        recorder.wait(60)
    print(f"profile: {HERE / 'profile-get.svg'}, {HERE / 'profile-get.txt'} (collapsed stacks)")


def commit() -> str:
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return f"{head} (with uncommitted changes)" if dirty else head


async def _main(options: argparse.Namespace) -> None:
    binary = ensure_wrk()
    measured_on = commit()  # before --profile writes its files into the work tree
    async with _database() as url:
        await migrated(url)
        secret = secrets.token_urlsafe(48)
        env = {
            "NOTES_DATABASE_URL": url,
            "NOTES_SECRET_KEY": secret,
            "NOTES_ACCESS_LOG": "false",
            # Every column's POSTs go to the one seeded user: no quota may refuse them.
            "NOTES_QUOTA_NOTES": str(10**9),
            "NOTES_QUOTA_BYTES": str(2**62),
        }
        service = ServerProcess(env).start()
        reference = None
        # The same service behind PgBouncer in transaction mode, when PgBouncer is there.
        bouncer = contextlib.AsyncExitStack()
        pooled = None
        on_mysql = None
        mysql_url = None
        try:
            server = None if options.no_mysql else await mysql_server()
            if server is not None:
                mysql_url = await bouncer.enter_async_context(scratch_mysql_database(server))
                await migrated(mysql_url)
            if pgbouncer_binary() is not None and not options.no_pgbouncer:
                through = bouncer.enter_context(
                    running_pgbouncer(sa.make_url(url), "transaction", pool_size=20)
                )
                pooled = ServerProcess({
                    **env,
                    "NOTES_DATABASE_URL": through.render_as_string(hide_password=False),
                    "NOTES_DATABASE_POOLER": "transaction",
                }).start()  # fmt: skip
            password = "correct horse battery staple"  # noqa: S105 - a throwaway user
            # Blocking calls are fine here: nothing else runs on this event loop.
            created = httpx.post(  # noqa: ASYNC210
                f"{service.base_url}/users/", json={"username": "bench", "password": password}
            )
            created.raise_for_status()
            owner = created.json()["id"]
            from uuid import UUID

            target, PATCH_IDS[:] = await seed(url, UUID(owner), options.notes)
            print(f"seeded {options.notes:,} notes", flush=True)
            if mysql_url is not None:
                await seed_mysql(mysql_url, url, UUID(owner))
                on_mysql = ServerProcess({**env, "NOTES_DATABASE_URL": mysql_url}).start()
                print(f"seeded {options.notes:,} notes on MySQL", flush=True)
            reference = Reference(url, secret)
            workloads = [
                Workload("GET /notes/{id}", f"/notes/{target}", "auth.lua"),
                Workload("GET /notes/?limit=50", "/notes/?limit=50", "auth.lua"),
                Workload(f"GET /notes/?q={SELECTIVE}", f"/notes/?q={SELECTIVE}", "auth.lua"),
                # Last: the notes they add or change would change what the reads find.
                Workload("POST /notes/", "/notes/", "post.lua"),
                Workload("PATCH /notes/{id}", "/notes/", "patch.lua"),
            ]
            if options.only:
                workloads = [w for w in workloads if options.only in w.name]
            apps = {"service": service.base_url, "reference": reference.base_url}
            if pooled is not None:
                apps["pgbouncer"] = pooled.base_url
            if on_mysql is not None:
                apps["mysql"] = on_mysql.base_url
            token = login(service.base_url, "bench", password)
            for workload in workloads:
                for base in apps.values():
                    check = httpx.get(  # noqa: ASYNC210
                        base + workload.path, headers={"Authorization": f"Bearer {token}"}
                    ) if workload.script == "auth.lua" else None  # fmt: skip
                    if check is not None and check.status_code != 200:
                        raise RuntimeError(f"{base}{workload.path}: {check.status_code}")
            results: dict[str, dict[str, list[Run]]] = {}
            peak_rss = lifetime_peak = float("nan")
            for workload in workloads:
                token = login(service.base_url, "bench", password)
                if workload is workloads[0]:
                    # The peak so far is Argon2's (64 MiB per hash, for the logins): the
                    # figure asked for is the peak under the GET load, measured from here.
                    lifetime_peak = vm_hwm_mb(service.pid)
                    reset_peak_rss(service.pid)
                runs: dict[str, list[Run]] = {name: [] for name in apps}
                # A short warm-up of each, then A/B/A/B.
                for base in apps.values():
                    wrk(binary, base + workload.path, workload.script, token, 2)
                for _ in range(options.rounds):
                    for name, base in apps.items():
                        run = wrk(binary, base + workload.path, workload.script, token,
                                  options.duration)  # fmt: skip
                        runs[name].append(run)
                        failed = f"  ERRORS {run.errors}" if run.errors else ""
                        print(f"  {workload.name:28} {name:9} {run.rps:9.0f} req/s "
                              f"p50 {run.p50_ms:6.2f} ms p99 {run.p99_ms:6.2f} ms{failed}",
                              flush=True)  # fmt: skip
                results[workload.name] = runs
                if workload is workloads[0]:
                    peak_rss = vm_hwm_mb(service.pid)
            if options.profile:
                token = login(service.base_url, "bench", password)
                profile(binary, service, workloads[0], token, options.duration)
        finally:
            if reference is not None:
                reference.stop()
            if pooled is not None:
                pooled.stop()
            if on_mysql is not None:
                on_mysql.stop()
            await bouncer.aclose()
            service.stop()
    cold = unit = float("nan")
    if not options.quick:
        print("cold start…", flush=True)
        cold = cold_start()
        print("tests/unit…", flush=True)
        unit = unit_tests_wall()
    table = render(results, options, measured_on, peak_rss, lifetime_peak, cold, unit)
    print()
    print(table)
    Path(options.results).write_text(table)  # noqa: ASYNC240
    print(f"written to {options.results}")


TARGETS = {
    "GET /notes/{id}": 0.50,
    "GET /notes/?limit=50": 0.60,
    "GET /notes/?q=zanzibar": 0.46,
    "POST /notes/": 0.42,
}
"""The lowest ratio each workload may have to the reference's requests per second."""
TAIL = 3.0
"""The service's p99 may be at most this many times the reference's, in every workload."""


def render(
    results: dict[str, dict[str, list[Run]]],
    options: argparse.Namespace,
    measured_on: str,
    peak_rss: float,
    lifetime_peak: float,
    cold: float,
    unit: float,
) -> str:
    def med(runs: list[Run], field: str) -> float:
        return statistics.median(getattr(r, field) for r in runs)

    lines = [
        "# HTTP load: the service against the bare reference",
        "",
        f"Command: `.venv/bin/python -m bench.http_load --duration {options.duration} "
        f"--rounds {options.rounds} --notes {options.notes}`  ",
        f"Commit: {measured_on}; measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}  ",
        f"wrk: {THREADS} threads, {CONNECTIONS} connections, {options.duration} s a run, "
        f"{options.rounds} rounds A/B/A/B; one uvicorn worker each (uvloop, httptools, no "
        "access log); medians over the rounds.",
        "",
        "| workload | service req/s | p50 | p99 | reference req/s | p50 | p99 | ratio | "
        "ratio target | p99 / reference p99 (target ≤ 3) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for name, runs in results.items():
        s, r = runs["service"], runs["reference"]
        ratio = med(s, "rps") / med(r, "rps")
        target = TARGETS.get(name)
        verdict = (
            "none"
            if target is None
            else f"≥ {target:.2f} {'met' if ratio >= target else 'NOT met'}"
        )
        tail = med(s, "p99_ms") / med(r, "p99_ms")
        errors = sum(run.errors for run in s + r)
        lines.append(
            f"| `{name}` | {med(s, 'rps'):,.0f} | {med(s, 'p50_ms'):.2f} ms | "
            f"{med(s, 'p99_ms'):.2f} ms | {med(r, 'rps'):,.0f} | {med(r, 'p50_ms'):.2f} ms | "
            f"{med(r, 'p99_ms'):.2f} ms | **{ratio:.2f}** | {verdict}"
            + (f" ({errors} errors)" if errors else "")
            + f" | {tail:.2f}x {'met' if tail <= TAIL else 'NOT met'} |"
        )
    pooled = {name: runs for name, runs in results.items() if "pgbouncer" in runs}
    if pooled:
        lines += [
            "",
            "The same service behind PgBouncer (transaction mode, `NOTES_DATABASE_POOLER="
            "transaction`), in the same rounds; the ratio is to the reference, direct:",
            "",
            "| workload | via PgBouncer req/s | p50 | p99 | ratio |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for name, runs in pooled.items():
            b, r = runs["pgbouncer"], runs["reference"]
            lines.append(
                f"| `{name}` | {med(b, 'rps'):,.0f} | {med(b, 'p50_ms'):.2f} ms | "
                f"{med(b, 'p99_ms'):.2f} ms | **{med(b, 'rps') / med(r, 'rps'):.2f}** |"
            )
    on_mysql = {name: runs for name, runs in results.items() if "mysql" in runs}
    if on_mysql:
        lines += [
            "",
            "The same service on MySQL/MariaDB (the same notes and user), in the same rounds; "
            "the ratio is to the reference on PostgreSQL:",
            "",
            "| workload | on MySQL req/s | p50 | p99 | ratio | service on PostgreSQL req/s |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, runs in on_mysql.items():
            m, r, s = runs["mysql"], runs["reference"], runs["service"]
            errors = sum(run.errors for run in m)
            lines.append(
                f"| `{name}` | {med(m, 'rps'):,.0f} | {med(m, 'p50_ms'):.2f} ms | "
                f"{med(m, 'p99_ms'):.2f} ms | **{med(m, 'rps') / med(r, 'rps'):.2f}** | "
                f"{med(s, 'rps'):,.0f}" + (f" ({errors} errors)" if errors else "") + " |"
            )
    lines += [
        "",
        f"- Service worker's peak RSS (VmHWM) under the GET load: {peak_rss:.1f} MB "
        f"(target ≤ 150 MB); before it, with the logins' Argon2 hashes (64 MiB each): "
        f"{lifetime_peak:.1f} MB",
        f"- Cold start of `notes serve` on a new embedded database (initdb, migrations) to "
        f"the first 200 from `/readyz`: {cold:.2f} s",
        f"- Wall time of `pytest -q tests/unit`: {unit:.2f} s",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="A/B rounds per workload")
    parser.add_argument("--notes", type=int, default=10_000, help="notes to seed")
    parser.add_argument("--profile", action="store_true", help="record a py-spy profile")
    parser.add_argument("--results", default=str(HERE / "results.md"))
    parser.add_argument(
        "--only", help="run only the workloads whose name contains this (e.g. 'POST')"
    )
    parser.add_argument(
        "--quick", action="store_true", help="skip the cold start and tests/unit timings"
    )
    parser.add_argument(
        "--no-pgbouncer", action="store_true", help="skip the runs through PgBouncer"
    )
    parser.add_argument("--no-mysql", action="store_true", help="skip the runs on MySQL")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
