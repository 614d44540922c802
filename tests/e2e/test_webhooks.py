"""Webhooks end to end: ``notes serve`` processes on PostgreSQL (and on MySQL or MariaDB, with
``TEST_MYSQL_URL``) deliver to a real receiver, which verifies every message with the
Standard Webhooks algorithm."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.api.client import PASSWORD, SECRET_KEY
from tests.databases import (
    migrated,
    require_mysql,
    scratch_mysql_database,
    scratch_postgres_database,
)
from tests.e2e.server import ServerProcess
from tests.webhook_receiver import Received, receiving, verify

ALL_EVENTS = ["note.created", "note.updated", "note.deleted", "note.restored"]


@pytest.fixture(params=["postgres", "mysql"])
async def database(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if request.param == "mysql":
        scratch = scratch_mysql_database(require_mysql())
    else:
        scratch = scratch_postgres_database(request.getfixturevalue("postgres_server_url"))
    async with scratch as url:
        await migrated(url)
        yield url


def server_env(database: str, **extra: str) -> dict[str, str]:
    return {
        "NOTES_DATABASE_URL": database,
        "NOTES_SECRET_KEY": SECRET_KEY,
        "NOTES_LOG_LEVEL": "warning",
        "NOTES_WEBHOOKS_ALLOW_PRIVATE": "true",
        "NOTES_WEBHOOKS_POLL_INTERVAL": "0.05",
        "NOTES_WEBHOOKS_FIRST_RETRY": "0.2",
        **extra,
    }


@pytest.fixture
def server(database: str) -> Iterator[ServerProcess]:
    process = ServerProcess(server_env(database)).start()
    try:
        yield process
    finally:
        process.stop()


@contextmanager
def signed_in(base_url: str, username: str = "alice") -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        account = {"username": username, "password": PASSWORD}
        assert client.post("/users/", json=account).status_code in (201, 409)
        token = client.post("/auth/token", data=account).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def register(client: httpx.Client, url: str, events: list[str] = ALL_EVENTS) -> dict[str, Any]:
    response = client.post("/users/me/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def created_note(client: httpx.Client, title: str) -> dict[str, Any]:
    response = client.post("/notes/", json={"title": title})
    assert response.status_code == 201, response.text
    note: dict[str, Any] = response.json()
    return note


def deliveries(client: httpx.Client, webhook: dict[str, Any], count: int) -> list[Any]:
    """The webhook's recorded attempts, once ``count`` are (an attempt is recorded just
    after its answer arrives)."""
    for _ in range(300):
        found: list[Any] = client.get(f"/users/me/webhooks/{webhook['id']}/deliveries").json()
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{len(found)} of {count} attempts recorded")


def bodies(secret: str, received: list[Received]) -> list[Any]:
    return [verify(secret, message) for message in received]


def test_a_receiver_gets_every_event_signed_and_in_commit_order(server: ServerProcess) -> None:
    with receiving() as receiver, signed_in(server.base_url) as client:
        webhook = register(client, receiver.url)
        note = created_note(client, "v1")
        assert client.patch(f"/notes/{note['id']}", json={"title": "v2"}).status_code == 200
        assert client.delete(f"/notes/{note['id']}").status_code == 204
        assert client.post(f"/trash/{note['id']}/restore").status_code == 200
        other = created_note(client, "other")
        got = bodies(webhook["secret"], receiver.wait_for(5))
        recorded = deliveries(client, webhook, 5)
    assert [b["type"] for b in got] == [
        "note.created",
        "note.updated",
        "note.deleted",
        "note.restored",
        "note.created",
    ]
    assert [got[0]["data"]["note"]["title"], got[1]["data"]["note"]["title"]] == ["v1", "v2"]
    assert got[0]["data"]["note"]["owner"] == note["owner"]  # as GET /notes/{id} shows it
    assert got[2]["data"] == {"id": note["id"]}
    assert got[3]["data"]["note"]["version"] == 3
    assert got[4]["data"]["note"]["id"] == other["id"]
    assert [d["status_code"] for d in recorded] == [200] * 5
    assert [d["event_id"] for d in reversed(recorded)] == [b["id"] for b in got]


def test_a_failing_receiver_gets_the_event_again_until_it_answers(server: ServerProcess) -> None:
    with receiving([500, 500, 500]) as receiver, signed_in(server.base_url) as client:
        webhook = register(client, receiver.url, ["note.created"])
        created_note(client, "retried")
        created_note(client, "after")
        received = receiver.wait_for(5)
        recorded = deliveries(client, webhook, 5)
    got = bodies(webhook["secret"], received)
    assert [m.status for m in received] == [500, 500, 500, 200, 200]
    assert [b["data"]["note"]["title"] for b in got] == ["retried"] * 4 + ["after"]
    assert len({m.headers["webhook-id"] for m in received[:4]}) == 1
    assert [(d["attempt"], d["status_code"]) for d in reversed(recorded)] == [
        (1, 500),
        (2, 500),
        (3, 500),
        (4, 200),
        (1, 200),
    ]


def test_an_event_whose_delivery_a_killed_process_left_is_delivered_after_a_restart(
    database: str,
) -> None:
    release = threading.Event()
    env = server_env(database, NOTES_WEBHOOKS_LEASE="11")
    with receiving(hold_first=release) as receiver:
        first = ServerProcess(env).start()
        try:
            with signed_in(first.base_url) as client:
                webhook = register(client, receiver.url, ["note.created"])
                created_note(client, "survives")
                receiver.wait_for(1)  # sent, and the answer held back: not recorded yet
        finally:
            first.stop(signal.SIGKILL)
            release.set()
        second = ServerProcess(env, port=first.port).start()
        try:
            with signed_in(second.base_url) as again:
                created_note(again, "next")
                received = receiver.wait_for(3, timeout=60)
        finally:
            second.stop()
    got = bodies(webhook["secret"], received)
    # At least once: the attempt the killed process made is made again, with the same id.
    assert [b["data"]["note"]["title"] for b in got] == ["survives", "survives", "next"]
    assert got[0]["id"] == got[1]["id"]


def test_two_processes_deliver_each_event_once(database: str) -> None:
    servers = [ServerProcess(server_env(database)).start() for _ in range(2)]
    try:
        with receiving() as receiver:
            with (
                signed_in(servers[0].base_url, "carol") as one,
                signed_in(servers[1].base_url, "carol") as two,
            ):
                hooks = [register(one, f"{receiver.url}/{index}") for index in range(3)]
                for index in range(30):
                    created_note((one, two)[index % 2], f"n{index}")
            receiver.wait_for(90)
            # A few more turns of both workers: nothing more is sent.
            time.sleep(1)
            received = list(receiver.received)
    finally:
        for server in servers:
            server.stop()
    by_hook: dict[str, list[Any]] = {}
    for message in received:
        hook = hooks[int(message.path.rsplit("/", 1)[1])]
        by_hook.setdefault(hook["id"], []).append(verify(hook["secret"], message))
    assert all(message.status == 200 for message in received)
    for got in by_hook.values():
        assert [b["data"]["note"]["title"] for b in got] == [f"n{i}" for i in range(30)]
        assert Counter(b["id"] for b in got).most_common(1)[0][1] == 1
    assert len(received) == 90
