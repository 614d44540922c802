"""CPU per request, in process: the service's ASGI app against the reference's, no HTTP.

    .venv/bin/python -m bench.asgi_cpu [--requests 4000] [--only GET] [--profile]

A quick companion to ``bench.http_load`` for working on the hot path: it seeds a scratch
PostgreSQL database (embedded, or ``BENCH_DATABASE_URL``) like ``http_load`` does, runs the
lifespan of both apps in this process, and calls each app directly with ASGI messages from
32 concurrent tasks. It prints the process's CPU time per request for each app and their
ratio (reference / service), which leaves out the server's HTTP parsing (the same for both)
and so understates the ratio ``http_load`` measures. With ``--profile``, cProfile's
heaviest functions for the service are printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import os
import pstats
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from bench.http_load import SELECTIVE, seed
from bench.listing import _database
from tests.databases import migrated

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def _scope(method: str, path: str, token: str, body: bytes = b"") -> dict[str, Any]:
    path, _, query = path.partition("?")
    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app: App, method: str, path: str, token: str, body: bytes = b"") -> int:
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif status >= 300 and message.get("body"):
            print(message["body"][:300])

    await app(_scope(method, path, token, body), receive, send)
    return status


async def drive(app: App, method: str, path: str, token: str, body: bytes, count: int) -> float:
    """CPU seconds per request over ``count`` requests from ``CONCURRENCY`` tasks."""
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            status = await call(app, method, path, token, body)
            if status >= 300:
                raise RuntimeError(f"{method} {path}: {status}")

    started = time.process_time()
    async with asyncio.TaskGroup() as group:
        for _ in range(CONCURRENCY):
            group.create_task(worker())
    return (time.process_time() - started) / count


class Lifespan:
    def __init__(self, app: App) -> None:
        self.app = app
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def __aenter__(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.queue.get, self.answers.put))
        await self.queue.put({"type": "lifespan.startup"})
        answer = await self.answers.get()
        if answer["type"] != "lifespan.startup.complete":
            raise RuntimeError(answer)

    async def __aexit__(self, *_: object) -> None:
        await self.queue.put({"type": "lifespan.shutdown"})
        await self.answers.get()
        await self.task


async def _main(options: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    async with _database() as url:
        await migrated(url)
        secret = secrets.token_urlsafe(48)
        os.environ.update(
            NOTES_DATABASE_URL=url, NOTES_SECRET_KEY=secret, REFERENCE_DATABASE_URL=url,
            REFERENCE_SECRET=secret, NOTES_ACCESS_LOG="false",
        )  # fmt: skip
        from bench.reference_app import create_app as reference_app
        from entrypoints.http import create_app

        service = create_app()
        reference = reference_app()
        async with Lifespan(service), Lifespan(reference):
            password = "correct horse battery staple"  # noqa: S105 - a throwaway user
            body = json.dumps({"username": "bench", "password": password}).encode()
            await call(service, "POST", "/users/", "", body)
            accounts = await service.state.container.accounts()  # type: ignore[attr-defined]
            session = await accounts.log_in("bench", password)
            owner = accounts.authenticate(session.access_token)
            target, _ = await seed(url, UUID(str(owner)), options.notes)
            token = session.access_token
            post = json.dumps(
                {"title": "Groceries", "description": "milk, eggs, sourdough bread",
                 "tags": ["home", "food"]}
            ).encode()  # fmt: skip
            workloads = [
                ("GET /notes/{id}", "GET", f"/notes/{target}", b""),
                ("GET /notes/?limit=50", "GET", "/notes/?limit=50", b""),
                (f"GET /notes/?q={SELECTIVE}", "GET", f"/notes/?q={SELECTIVE}", b""),
                ("POST /notes/", "POST", "/notes/", post),
            ]
            for name, method, path, payload in workloads:
                if options.only and options.only not in name:
                    continue
                apps = {"service": service, "reference": reference}
                for app in apps.values():
                    await drive(app, method, path, token, payload, 300)
                cpu: dict[str, list[float]] = {n: [] for n in apps}
                for _ in range(3):
                    for app_name, app in apps.items():
                        cpu[app_name].append(
                            await drive(app, method, path, token, payload, options.requests)
                        )
                s, r = min(cpu["service"]), min(cpu["reference"])
                print(f"{name:28} service {s * 1e6:7.0f} µs  reference {r * 1e6:7.0f} µs  "
                      f"ratio {r / s:.2f}", flush=True)  # fmt: skip
                if options.profile:
                    profiler = cProfile.Profile()
                    profiler.enable()
                    await drive(service, method, path, token, payload, options.requests)
                    profiler.disable()
                    out = io.StringIO()
                    stats = pstats.Stats(profiler, stream=out).sort_stats(
                        os.environ.get("BENCH_PROFILE_SORT", "tottime")
                    )
                    stats.print_stats(35)
                    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--only")
    parser.add_argument("--profile", action="store_true")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
