"""Does a burst of logins stall other requests? Password hashing is slow on purpose; it must
run off the event loop.

Starts ``notes serve`` (one worker, in-memory storage), then measures the latency of
``GET /healthz`` on an idle server, and again while 20 logins run at once, over and over.
Prints p50 and p99 of both phases and their ratio.

    .venv/bin/python -m bench.login_burst [--requests 1000] [--logins 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx

from tests.e2e.server import ServerProcess

USER = {"username": "bench-user", "password": "bench password 123"}


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _probe(client: httpx.AsyncClient, requests: int) -> list[float]:
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await client.get("/healthz")
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
    return latencies


async def _login_storm(base_url: str, logins: int, stop: asyncio.Event) -> int:
    done = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        while not stop.is_set():
            answers = await asyncio.gather(
                *(client.post("/auth/token", data=USER) for _ in range(logins))
            )
            for answer in answers:
                answer.raise_for_status()
            done += logins
    return done


async def _measure(base_url: str, requests: int, logins: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        (await client.post("/users/", json=USER)).raise_for_status()
        await _probe(client, 50)  # warm up
        idle = await _probe(client, requests)
        stop = asyncio.Event()
        storm = asyncio.create_task(_login_storm(base_url, logins, stop))
        await asyncio.sleep(0.5)
        busy = await _probe(client, requests)
        stop.set()
        logged_in = await storm
    print(f"GET /healthz, {requests} sequential requests per phase; {logins} concurrent logins")
    for name, samples in (("idle", idle), ("logins", busy)):
        p50, p99 = statistics.median(samples) * 1e3, _percentile(samples, 0.99) * 1e3
        print(f"{name + ':':8}p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    print(
        f"p99 ratio (logins / idle): {_percentile(busy, 0.99) / _percentile(idle, 0.99):.2f}  "
        f"(logins completed meanwhile: {logged_in})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--logins", type=int, default=20)
    options = parser.parse_args()
    # Every login of the burst is one user's from one address: an attempt is counted before
    # its password is checked, so the limits must leave room for the whole burst.
    limits = str(options.logins * 2)
    server = ServerProcess(
        {
            "NOTES_DATABASE_URL": "memory://",
            "NOTES_LOG_LEVEL": "warning",
            "NOTES_LOGIN_MAX_FAILURES": limits,
            "NOTES_LOGIN_MAX_FAILURES_PER_USERNAME": limits,
            "NOTES_HASH_QUEUE": limits,
        }
    ).start()
    try:
        asyncio.run(_measure(server.base_url, options.requests, options.logins))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
