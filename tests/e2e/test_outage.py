"""A database outage under a running ``notes serve``: the PostgreSQL server is stopped and
started again while the service keeps answering.

While it is down, a request that needs it gets a 503 problem with ``Retry-After`` within
about two seconds (never a hang), ``/healthz`` stays 200 and ``/readyz`` says 503. Once it is
back, the service serves again within five seconds, without a restart. A writer keeps
creating notes throughout; every note it was told was created is there afterwards.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from adapters.embedded_postgres import EmbeddedPostgres
from adapters.sqlalchemy import migrate
from tests.api.client import PASSWORD, SECRET_KEY
from tests.e2e.server import ServerProcess

ANSWER_BOUND_S = 2.5
""""About two seconds": the pool and connect timeouts are 2 s; the rest is slack for a busy
machine. Measured answers come in milliseconds, as the server's socket is gone."""
RECOVERY_BOUND_S = 5.0


@dataclass
class Writer:
    """Creates notes one after another until stopped; keeps what each attempt got."""

    http: httpx.Client
    created: list[dict[str, object]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    slowest_s: float = 0.0
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        number = 0
        while not self.stopping.is_set():
            number += 1
            started = time.monotonic()
            response = self.http.post("/notes/", json={"title": f"written {number}"})
            self.slowest_s = max(self.slowest_s, time.monotonic() - started)
            self.statuses.append(response.status_code)
            if response.status_code == 201:
                self.created.append(response.json())
            else:
                time.sleep(0.02)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server of the test's own, migrated, which the test stops and starts."""
    server = EmbeddedPostgres(tmp_path / "postgres")
    migrate.upgrade(server.start())
    yield server
    server.destroy()


def _signed_in(http: httpx.Client) -> None:
    account = {"username": "alice", "password": PASSWORD}
    assert http.post("/users/", json=account).status_code == 201
    session = http.post("/auth/token", data=account)
    assert session.status_code == 200
    http.headers["Authorization"] = f"Bearer {session.json()['access_token']}"


def _timed(
    http: httpx.Client, method: str, url: str, **options: object
) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = http.request(method, url, **options)  # type: ignore[arg-type]
    return time.monotonic() - started, response


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["status"] == 503


def test_the_service_rides_out_a_database_outage(database: EmbeddedPostgres) -> None:
    env = {
        "NOTES_DATABASE_URL": database.url,
        "NOTES_SECRET_KEY": SECRET_KEY,
        "NOTES_LOG_FORMAT": "json",
        "NOTES_LOG_LEVEL": "info",
    }
    server = ServerProcess(env).start()
    try:
        with (
            httpx.Client(base_url=server.base_url, timeout=30) as http,
            httpx.Client(base_url=server.base_url, timeout=30) as writing,
        ):
            _signed_in(http)
            writing.headers["Authorization"] = http.headers["Authorization"]
            created = http.post("/notes/", json={"title": "before", "tags": ["kept"]})
            assert "server" not in created.headers
            assert created.headers["x-content-type-options"] == "nosniff"
            kept = created.json()

            writer = Writer(writing)
            thread = threading.Thread(target=writer.run)
            thread.start()
            try:
                time.sleep(0.3)
                database.stop()

                answers = [
                    _timed(http, "POST", "/notes/", json={"title": "during"}),
                    _timed(http, "GET", "/notes/"),
                    _timed(http, "GET", f"/notes/{kept['id']}"),
                    _timed(http, "PATCH", f"/notes/{kept['id']}", json={"title": "lost"}),
                    _timed(http, "POST", "/users/", json={"username": "bob", "password": PASSWORD}),
                    _timed(http, "GET", "/readyz"),
                ]
                for elapsed, response in answers:
                    _assert_unavailable(response)
                    assert elapsed < ANSWER_BOUND_S, (response.request.url, elapsed)
                assert http.get("/healthz").status_code == 200

                database.start()
                restarted = time.monotonic()
                while (created := http.post("/notes/", json={"title": "after"})).status_code != 201:
                    _assert_unavailable(created)
                    assert time.monotonic() - restarted < RECOVERY_BOUND_S
                    time.sleep(0.05)
                recovery_s = time.monotonic() - restarted
                assert http.get("/readyz").status_code == 200
                time.sleep(0.3)
            finally:
                writer.stopping.set()
                thread.join()

            print(
                f"outage answers: {max(elapsed for elapsed, _ in answers) * 1000:.1f} ms at most; "
                f"writer's slowest: {writer.slowest_s * 1000:.1f} ms; "
                f"served again {recovery_s * 1000:.0f} ms after the database started; "
                f"writer: {writer.statuses.count(201)} created, {writer.statuses.count(503)} 503"
            )
            assert set(writer.statuses) == {201, 503}
            assert writer.slowest_s < ANSWER_BOUND_S

            # Nothing acknowledged was lost; nothing asked of a stopped database was done.
            assert http.get(f"/notes/{kept['id']}").json() == kept
            for note in writer.created:
                assert http.get(f"/notes/{note['id']}").json() == note
            stored = http.get("/notes/", params={"limit": 500}).json()
            titles = {note["title"] for note in stored}
            assert {"before", "after"} <= titles
            assert not titles & {"during", "lost"}
            assert len(stored) >= len(writer.created) + 2
    finally:
        assert server.stop() == 0

    # The server's log: one JSON object a line; each failed request once, with its id.
    lines = [json.loads(line) for line in server.log.decode().splitlines()]
    by_id = {line["request_id"]: line for line in lines if "route" in line}
    for _, response in answers:
        line = by_id[response.headers["x-request-id"]]
        assert (line["status"], line["level"]) == (503, "warning")
        assert line["error"].startswith("StorageUnavailable <- ")
