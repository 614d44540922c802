"""How long from a commit to its webhook delivery, under a steady load of writes?

Starts ``notes serve`` on a scratch PostgreSQL database (``TEST_DATABASE_URL``'s server, or
an embedded one), registers ``--users`` users with one webhook each to a real receiver (in a
process of its own, keeping connections alive; ``--receiver-here``: in this process's
threads, sharing its GIL with the load), then creates notes at ``--rate`` per second (open
loop, spread over the users) for ``--duration`` seconds. The delay of each event is the time
its message arrived at the receiver minus the event's ``created_date`` (the change's own
timestamp, taken just before its commit, on the same machine's clock). Prints p50, p99 and
max, how many events arrived more than once, the CPU time the server used from the first
note to the last delivery (on a shared machine, a steadier figure than the delays), and the
machine's load average before and after.

    .venv/bin/python -m bench.webhooks [--rate 200] [--duration 10] [--users 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.api.client import PASSWORD, SECRET_KEY
from tests.databases import migrated, postgres_server, scratch_postgres_database
from tests.e2e.server import ServerProcess
from tests.webhook_receiver import receiving, receiving_elsewhere, verify


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _sign_in(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    account = {"username": name, "password": PASSWORD}
    (await client.post("/users/", json=account)).raise_for_status()
    token = (await client.post("/auth/token", data=account)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def _load(
    base_url: str, url: str, options: argparse.Namespace, pid: int
) -> tuple[int, list[str], float]:
    """Sign in, register the webhooks, then create the notes; how many, the webhooks'
    secrets, and the server's CPU time when the notes began."""
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        users = [await _sign_in(client, f"bench-{i}") for i in range(options.users)]
        secrets = []
        for index, headers in enumerate(users):
            body = {"url": f"{url}/{index}", "events": ["note.created"]}
            answer = await client.post("/users/me/webhooks", json=body, headers=headers)
            answer.raise_for_status()
            secrets.append(answer.json()["secret"])
        total = int(options.rate * options.duration)
        cpu_at_start = _cpu_seconds(pid)
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        for n in range(total):
            await asyncio.sleep(max(0.0, start + n / options.rate - loop.time()))
            tasks.append(asyncio.ensure_future(_create(client, n, users[n % len(users)])))
        await asyncio.gather(*tasks)
        return total, secrets, cpu_at_start


async def _create(client: httpx.AsyncClient, n: int, headers: dict[str, str]) -> None:
    """One note; sent again on a connection the server closed before it was read."""
    for attempt in (1, 2):
        try:
            answer = await client.post("/notes/", json={"title": f"n{n}"}, headers=headers)
        except httpx.TransportError:
            if attempt == 2:
                raise
            continue
        answer.raise_for_status()
        return


def _cpu_seconds(pid: int) -> float:
    """The CPU time process ``pid`` has used so far (Linux; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load_average() -> str:
    return " ".join(f"{figure:.2f}" for figure in os.getloadavg())


async def _run(options: argparse.Namespace) -> None:
    load_before = _load_average()
    with (
        tempfile.TemporaryDirectory() as scratch,
        postgres_server(Path(scratch)) as server_url,
    ):
        async with scratch_postgres_database(server_url) as database:
            await migrated(database)
            server = ServerProcess(
                {
                    "NOTES_DATABASE_URL": database,
                    "NOTES_SECRET_KEY": SECRET_KEY,
                    "NOTES_LOG_LEVEL": "warning",
                    "NOTES_ACCESS_LOG": "false",
                    "NOTES_WEBHOOKS_ALLOW_PRIVATE": "true",
                    "NOTES_WEBHOOKS_POLL_INTERVAL": str(options.poll_interval),
                }
            ).start()
            try:
                receiver_cm: contextlib.AbstractContextManager[Any] = (
                    receiving() if options.receiver_here else receiving_elsewhere()
                )
                with receiver_cm as receiver:
                    total, secrets, cpu_at_start = await _load(
                        server.base_url, receiver.url, options, server.pid
                    )
                    received = await asyncio.to_thread(receiver.wait_for, total, 300.0)
                    cpu = _cpu_seconds(server.pid) - cpu_at_start
            finally:
                server.stop()
    delays = []
    for message in received:
        body = verify(secrets[int(message.path.rsplit("/", 1)[1])], message)
        created = datetime.fromisoformat(body["created_date"]).timestamp()
        delays.append(message.at - created)
    repeated = sum(n - 1 for n in Counter(m.headers["webhook-id"] for m in received).values())
    where = "in this process" if options.receiver_here else "in a process of its own"
    print(
        f"{total} notes created at {options.rate:g}/s over {options.users} users, one webhook "
        f"each; poll interval {options.poll_interval:g} s; receiver {where}"
    )
    print(
        f"commit -> delivery: p50 {statistics.median(delays) * 1e3:.1f} ms   "
        f"p99 {_percentile(delays, 0.99) * 1e3:.1f} ms   max {max(delays) * 1e3:.1f} ms   "
        f"(delivered {len(received)}, repeated {repeated}, "
        f"over {len({m.peer for m in received})} connections)"
    )
    print(f"server CPU from the first note to the last delivery: {cpu:.1f} s")
    print(f"load average (1, 5, 15 min): before {load_before}, after {_load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--poll-interval", type=float, default=0.2)
    parser.add_argument("--receiver-here", action="store_true")
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
