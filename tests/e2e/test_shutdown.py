"""SIGTERM under load: ``notes serve`` stops accepting connections, lets the requests in
flight finish (for up to ``NOTES_SHUTDOWN_TIMEOUT`` seconds), closes its pool, stops the
embedded PostgreSQL it started, and exits 0.

The requests are made slow by the database, not by anything in the service: the test locks
the ``notes`` table (see ``tests.api.locks``), so every note being created waits inside
PostgreSQL until the test lets it go.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.embedded_postgres import EmbeddedPostgres
from tests.api.client import PASSWORD
from tests.api.locks import notes_locked, waiting_on_locks
from tests.e2e.server import ServerProcess, accepts_connections

IN_FLIGHT = 50


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """No database URL: ``notes serve`` starts the embedded PostgreSQL in ``data_dir``."""
    saved = os.environ.pop("NOTES_DATABASE_URL", None)
    yield tmp_path / "data"
    EmbeddedPostgres(tmp_path / "data" / "postgres").destroy()
    if saved is not None:
        os.environ["NOTES_DATABASE_URL"] = saved


def _serve(data_dir: Path, **settings: str) -> ServerProcess:
    env = {
        "NOTES_DATA_DIR": str(data_dir),
        # One pooled connection for each request that waits in the database.
        "NOTES_POOL_SIZE": str(IN_FLIGHT),
        "NOTES_LOG_LEVEL": "info",
        **settings,
    }
    return ServerProcess(env).start()


async def _bearer(base_url: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        account = {"username": "alice", "password": PASSWORD}
        assert (await http.post("/users/", json=account)).status_code in (201, 409)
        session = await http.post("/auth/token", data=account)
        assert session.status_code == 200
        return {"Authorization": f"Bearer {session.json()['access_token']}"}


async def _until_refused(port: int, within_s: float = 10) -> None:
    deadline = time.monotonic() + within_s
    while await asyncio.to_thread(accepts_connections, port):
        assert time.monotonic() < deadline, "still accepting connections"
        await asyncio.sleep(0.05)


def _titles(base_url: str, bearer: dict[str, str]) -> list[str]:
    with httpx.Client(base_url=base_url, headers=bearer, timeout=30) as http:
        return [note["title"] for note in http.get("/notes/", params={"limit": 500}).json()]


async def test_sigterm_lets_the_requests_in_flight_finish_then_exits_0(data_dir: Path) -> None:
    server = _serve(data_dir)
    database = EmbeddedPostgres(data_dir / "postgres")
    try:
        bearer = await _bearer(server.base_url)
        limits = httpx.Limits(max_connections=IN_FLIGHT)
        async with (
            httpx.AsyncClient(
                base_url=server.base_url, headers=bearer, timeout=60, limits=limits
            ) as http,
            notes_locked(database.url) as lock,
        ):
            requests = [
                asyncio.create_task(http.post("/notes/", json={"title": f"in flight {number}"}))
                for number in range(IN_FLIGHT)
            ]
            await waiting_on_locks(database.url, IN_FLIGHT)

            server.send(signal.SIGTERM)
            await _until_refused(server.port)
            assert not any(request.done() for request in requests)

            await lock.rollback()
            answers = await asyncio.gather(*requests)
        assert [answer.status_code for answer in answers] == [201] * IN_FLIGHT
        assert await asyncio.to_thread(server.wait) == 0
    finally:
        server.stop()
    assert "database connection pool closed" in server.log.decode()
    assert not database.is_running()

    again = _serve(data_dir)
    try:
        titles = _titles(again.base_url, await _bearer(again.base_url))
        assert sorted(titles) == sorted(f"in flight {number}" for number in range(IN_FLIGHT))
    finally:
        assert again.stop() == 0


async def test_requests_that_outlast_the_shutdown_timeout_are_cut_off(data_dir: Path) -> None:
    server = _serve(data_dir, NOTES_SHUTDOWN_TIMEOUT="1")
    database = EmbeddedPostgres(data_dir / "postgres")
    try:
        bearer = await _bearer(server.base_url)
        async with (
            httpx.AsyncClient(base_url=server.base_url, headers=bearer, timeout=60) as http,
            notes_locked(database.url),
        ):
            stuck = asyncio.create_task(http.post("/notes/", json={"title": "stuck"}))
            await waiting_on_locks(database.url, 1)
            server.send(signal.SIGTERM)
            # The lock is never released: the server gives up on the request and exits.
            assert await asyncio.to_thread(server.wait, 30) == 0
            cut_off = await stuck
        assert cut_off.status_code == 503
        assert cut_off.headers["content-type"] == "application/problem+json"
        assert cut_off.json()["type"].endswith("shutting-down")
        assert cut_off.headers["x-request-id"]
    finally:
        server.stop()
    assert not database.is_running()

    again = _serve(data_dir)
    try:
        assert _titles(again.base_url, await _bearer(again.base_url)) == []
    finally:
        assert again.stop() == 0
