"""Two ``notes serve`` processes behind one PgBouncer in transaction mode, under load.

Sixteen clients create, read, update, delete and list notes for ten seconds, each through
either server: no request fails, every read finds the note it asked for (a statement bound
to another process's prepared statement would find another), and in the end the database
holds exactly the notes the clients were told exist, at the versions they were told.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy.engine import URL, make_url

from tests.api.client import PASSWORD, SECRET_KEY
from tests.databases import migrated, scratch_postgres_database
from tests.e2e.server import ServerProcess
from tests.pgbouncer import running_pgbouncer

CLIENTS = 16
DURATION_S = 10.0


@pytest.fixture
async def database(postgres_server_url: URL) -> AsyncIterator[str]:
    async with scratch_postgres_database(postgres_server_url) as url:
        await migrated(url)
        yield url


@pytest.fixture
def two_servers(database: str) -> Iterator[list[ServerProcess]]:
    """Two servers on ``database`` through PgBouncer in transaction mode, with fewer server
    connections behind PgBouncer than the servers' pools hold."""
    with running_pgbouncer(make_url(database), "transaction", pool_size=10) as pooled:
        env = {
            "NOTES_DATABASE_URL": pooled.render_as_string(hide_password=False),
            "NOTES_DATABASE_POOLER": "transaction",
            "NOTES_SECRET_KEY": SECRET_KEY,
            "NOTES_LOG_LEVEL": "warning",
            "NOTES_POOL_SIZE": "8",
            "NOTES_MAX_OVERFLOW": "4",
        }
        servers = [ServerProcess(env), ServerProcess(env)]
        try:
            for server in servers:
                server.start()
            yield servers
        finally:
            for server in servers:
                server.stop()


@dataclass
class Client:
    """One client's notes as the answers it got say they are; and what went wrong."""

    servers: list[httpx.Client]
    notes: dict[str, int] = field(default_factory=dict)
    """id -> version, for every note this client created and has not deleted."""
    errors: list[str] = field(default_factory=list)
    requests: int = 0

    def run(self, stop: threading.Event, seed: int) -> None:
        chance = random.Random(seed)
        while not stop.is_set():
            http = chance.choice(self.servers)
            action = chance.random()
            try:
                if action < 0.3 or not self.notes:
                    self._create(http, chance)
                elif action < 0.6:
                    self._read(http, chance.choice(list(self.notes)))
                elif action < 0.75:
                    self._update(http, chance.choice(list(self.notes)))
                elif action < 0.85:
                    self._delete(http, chance.choice(list(self.notes)))
                else:
                    self._expect(http.get("/notes/", params={"limit": 50}), 200)
            except httpx.HTTPError as error:
                self.errors.append(repr(error))

    def _expect(self, response: httpx.Response, status: int) -> httpx.Response:
        self.requests += 1
        if response.status_code != status:
            request = response.request
            self.errors.append(
                f"{request.method} {request.url.path}: {response.status_code} {response.text}"
            )
        return response

    def _create(self, http: httpx.Client, chance: random.Random) -> None:
        body = {"title": f"note {chance.random():.6f}", "tags": ["load"]}
        created = self._expect(http.post("/notes/", json=body), 201)
        if created.status_code == 201:
            self.notes[created.json()["id"]] = created.json()["version"]

    def _read(self, http: httpx.Client, note_id: str) -> None:
        found = self._expect(http.get(f"/notes/{note_id}"), 200)
        if found.status_code == 200 and (
            found.json()["id"],
            found.json()["version"],
        ) != (note_id, self.notes[note_id]):
            self.errors.append(f"GET {note_id} found {found.text}")

    def _update(self, http: httpx.Client, note_id: str) -> None:
        version = self.notes[note_id]
        changed = self._expect(
            http.patch(
                f"/notes/{note_id}",
                json={"description": f"v{version + 1}"},
                headers={"If-Match": f'"{version}"'},
            ),
            200,
        )
        if changed.status_code == 200:
            self.notes[note_id] = changed.json()["version"]

    def _delete(self, http: httpx.Client, note_id: str) -> None:
        version = self.notes[note_id]
        gone = http.delete(f"/notes/{note_id}", headers={"If-Match": f'"{version}"'})
        if self._expect(gone, 204).status_code == 204:
            del self.notes[note_id]


def _signed_in(base_url: str, username: str) -> str:
    account = {"username": username, "password": PASSWORD}
    assert httpx.post(f"{base_url}/users/", json=account).status_code == 201
    token: str = httpx.post(f"{base_url}/auth/token", data=account).json()["access_token"]
    return token


def test_two_servers_behind_a_transaction_pooler_lose_and_mix_up_nothing(
    two_servers: list[ServerProcess],
) -> None:
    owners = ["alice", "bob"]
    tokens = {name: _signed_in(two_servers[0].base_url, name) for name in owners}
    clients = [
        Client(
            [
                httpx.Client(
                    base_url=server.base_url,
                    headers={"Authorization": f"Bearer {tokens[owners[number % 2]]}"},
                    timeout=10,
                )
                for server in two_servers
            ]
        )
        for number in range(CLIENTS)
    ]
    stop = threading.Event()
    threads = [
        threading.Thread(target=client.run, args=(stop, number))
        for number, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(DURATION_S)
    stop.set()
    for thread in threads:
        thread.join()

    errors = [error for client in clients for error in client.errors]
    assert errors == [], f"{len(errors)} errors, the first: {errors[:5]}"
    assert sum(client.requests for client in clients) > CLIENTS * 10

    for number, owner in enumerate(owners):
        expected = {
            note_id: version
            for client in clients[number::2]
            for note_id, version in client.notes.items()
        }
        exported = clients[number].servers[1].get("/notes/export")
        assert exported.status_code == 200
        stored = {
            note["id"]: note["version"]
            for note in map(json.loads, exported.text.splitlines())
            if note
        }
        assert stored == expected, owner
    for client in clients:
        for http in client.servers:
            http.close()
