"""A failover under a running ``notes serve``: its URL names a primary and a synchronous
standby; with writes running, the primary stops and the standby is promoted.

The service serves again without a restart (``target_session_attrs=read-write`` finds the
new primary, and the pool drops the connections to the old one). Every note whose POST
was answered 201 is there, as synchronous replication promises; no POST answered with the
plain "no effect" 503 left a note; only an ``outcome-unknown`` 503 may have.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from adapters.sqlalchemy import migrate
from tests.api.client import PASSWORD, SECRET_KEY
from tests.e2e.server import ServerProcess
from tests.replication import Replicated, postgres_binaries, replicated

RECOVERY_BOUND_S = 30.0


@pytest.fixture
def servers() -> Iterator[Replicated]:
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL binaries with pg_basebackup (system or embedded wheel)")
    with replicated(binaries) as running:
        migrate.upgrade(running.url)
        yield running


@dataclass
class Writer:
    """Creates notes with unique titles until stopped; sorts the titles by the answer."""

    http: httpx.Client
    created: set[str] = field(default_factory=set)
    no_effect: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    other: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        number = 0
        while not self.stopping.is_set():
            number += 1
            title = f"written {number}"
            try:
                response = self.http.post("/notes/", json={"title": title})
            except httpx.HTTPError as error:
                self.other.append(repr(error))
                continue
            if response.status_code == 201:
                self.created.add(title)
            elif response.status_code == 503:
                kind = response.json()["type"]
                (self.unknown if kind.endswith("outcome-unknown") else self.no_effect).add(title)
                time.sleep(0.02)
            else:
                self.other.append(f"{response.status_code} {response.text}")

    def wait_for_successes(self, count: int, timeout: float) -> bool:
        goal = len(self.created) + count
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.created) >= goal:
                return True
            time.sleep(0.05)
        return False


def test_a_promoted_standby_serves_without_a_restart_and_loses_no_acknowledged_write(
    servers: Replicated,
) -> None:
    server = ServerProcess(
        {
            "NOTES_DATABASE_URL": servers.url,
            "NOTES_SECRET_KEY": SECRET_KEY,
            "NOTES_LOG_LEVEL": "warning",
            "NOTES_CONNECT_TIMEOUT": "1",
        }
    ).start()
    try:
        http = httpx.Client(base_url=server.base_url, timeout=15)
        account = {"username": "alice", "password": PASSWORD}
        assert http.post("/users/", json=account).status_code == 201
        token = http.post("/auth/token", data=account).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"

        writer = Writer(http)
        thread = threading.Thread(target=writer.run)
        thread.start()
        try:
            assert writer.wait_for_successes(20, timeout=RECOVERY_BOUND_S)
            servers.stop_primary()
            time.sleep(0.5)  # writes fail while there is no primary
            servers.promote()
            recovered = writer.wait_for_successes(20, timeout=RECOVERY_BOUND_S)
        finally:
            writer.stopping.set()
            thread.join()
        assert recovered, f"no writes after the promotion; last: {writer.other[-3:]}"
        assert writer.other == []

        exported = http.get("/notes/export")
        assert exported.status_code == 200
        stored = {json.loads(line)["title"] for line in exported.text.splitlines() if line}
        assert writer.created <= stored, sorted(writer.created - stored)[:5]
        assert not writer.no_effect & stored, sorted(writer.no_effect & stored)[:5]
        assert stored <= writer.created | writer.unknown
        http.close()
    finally:
        assert server.stop() == 0
