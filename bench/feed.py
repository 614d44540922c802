"""The change feed and personal access tokens, against a real ``notes serve`` on PostgreSQL.

    .venv/bin/python -m bench.feed [--changes 100000] [--duration 5] [--rounds 2]
                                   [--results bench/results-feed.md]

Prepares a PostgreSQL database as ``bench.http_load`` does, starts ``notes serve``, registers
a user and takes a feed cursor while the user has no notes. Then it imports ``--changes``
notes (1,000 a request) and times a client following ``GET /notes/changes`` from that
cursor, 1,000 changes an answer, until ``more`` is false: changes per second. Last, it drives
``GET /notes/{id}`` with ``wrk`` (32 connections) with a login's access token and with a
personal access token, A/B/A/B, and reports requests per second, p50 and p99 of each.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from pathlib import Path

import httpx

from bench.http_load import HERE, Run, commit, ensure_wrk, login, wrk
from bench.listing import _database
from tests.databases import migrated
from tests.e2e.server import ServerProcess

_PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway user
_BATCH = 1000


def _follow(client: httpx.Client, cursor: str) -> tuple[int, int, float]:
    """Changes and answers read following the feed from ``cursor``, and the seconds it took."""
    changes = answers = 0
    started = time.perf_counter()
    more = True
    while more:
        answer = client.get("/notes/changes", params={"since": cursor, "limit": _BATCH})
        answer.raise_for_status()
        body = answer.json()
        changes += len(body["changes"])
        answers += 1
        cursor, more = body["cursor"], body["more"]
    return changes, answers, time.perf_counter() - started


def _measure(
    base: str, binary: str, options: argparse.Namespace
) -> tuple[int, int, float, dict[str, list[Run]]]:
    user = {"username": "bench", "password": _PASSWORD}
    httpx.post(f"{base}/users/", json=user).raise_for_status()
    token = login(base, "bench", _PASSWORD)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
        cursor = client.get("/notes/changes").json()["cursor"]
        for start in range(0, options.changes, _BATCH):
            batch = [{"title": f"note {start + i}"} for i in range(_BATCH)]
            client.post("/notes/import", json=batch).raise_for_status()
        print(f"imported {options.changes:,} notes", flush=True)
        changes, answers, seconds = _follow(client, cursor)
        print(f"followed {changes:,} changes in {seconds:.2f} s", flush=True)
        made = client.post("/users/me/tokens", json={"name": "bench", "scopes": ["notes:read"]})
        made.raise_for_status()
        pat = made.json()["token"]
        target = client.get("/notes/", params={"limit": 1}).json()[0]["id"]
    path = f"{base}/notes/{target}"
    runs: dict[str, list[Run]] = {"login access token": [], "personal access token": []}
    credentials = {"login access token": token, "personal access token": pat}
    for credential in credentials.values():
        wrk(binary, path, "auth.lua", credential, 2)  # warm-up
    for _ in range(options.rounds):
        for name, credential in credentials.items():
            token = login(base, "bench", _PASSWORD)  # a login's token lives 15 minutes
            run = wrk(binary, path, "auth.lua", token if name[0] == "l" else credential,
                      options.duration)  # fmt: skip
            runs[name].append(run)
            print(f"  {name:22} {run.rps:8.0f} req/s p50 {run.p50_ms:6.2f} ms "
                  f"p99 {run.p99_ms:6.2f} ms errors {run.errors}", flush=True)  # fmt: skip
    return changes, answers, seconds, runs


async def _main(options: argparse.Namespace) -> None:
    binary = ensure_wrk()
    measured_on = commit()
    async with _database() as url:
        await migrated(url)
        env = {
            "NOTES_DATABASE_URL": url,
            "NOTES_SECRET_KEY": secrets.token_urlsafe(48),
            "NOTES_ACCESS_LOG": "false",
        }
        service = ServerProcess(env).start()
        try:
            changes, answers, seconds, runs = _measure(service.base_url, binary, options)
        finally:
            service.stop()
    lines = [
        "# The change feed and personal access tokens",
        "",
        f"Measured on commit {measured_on} with `python -m bench.feed --changes "
        f"{options.changes} --duration {options.duration} --rounds {options.rounds}`: one "
        "`notes serve` worker on PostgreSQL, on a shared 2-core machine.",
        "",
        "## Following the feed",
        "",
        "| changes | answers (1,000 a page) | seconds | changes per second |",
        "| ---: | ---: | ---: | ---: |",
        f"| {changes:,} | {answers} | {seconds:.2f} | {changes / seconds:,.0f} |",
        "",
        "## `GET /notes/{id}`, wrk at 32 connections (medians over the rounds)",
        "",
        "| credential | req/s | p50 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, measured in runs.items():
        lines.append(
            f"| {name} | {statistics.median(r.rps for r in measured):,.0f} "
            f"| {statistics.median(r.p50_ms for r in measured):.2f} "
            f"| {statistics.median(r.p99_ms for r in measured):.2f} "
            f"| {sum(r.errors for r in measured)} |"
        )
    table = "\n".join(lines) + "\n"
    print(table)
    Path(options.results).write_text(table)  # noqa: ASYNC240
    print(f"written to {options.results}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--results", default=str(HERE / "results-feed.md"))
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
