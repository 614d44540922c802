"""Two server processes sharing one database: idempotency holds across them, because keys
live in the database, not in a process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from adapters.embedded_postgres import EmbeddedPostgres
from tests.e2e.server import ServerProcess

ACCOUNT = {"username": "alice", "password": "correct horse battery"}


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """A server on the embedded PostgreSQL it starts, and a second one on the same database
    with the same signing key."""
    data = tmp_path / "data"
    saved = os.environ.pop("NOTES_DATABASE_URL", None)
    first = ServerProcess({"NOTES_DATA_DIR": str(data), "NOTES_LOG_LEVEL": "warning"}).start()
    second = ServerProcess(
        {
            "NOTES_DATABASE_URL": EmbeddedPostgres(data / "postgres").url,
            "NOTES_SECRET_KEY": (data / "secret_key").read_text().strip(),
            "NOTES_LOG_LEVEL": "warning",
        }
    )
    try:
        second.start()
        yield first, second
    finally:
        assert second.stop() == 0
        assert first.stop() == 0
        EmbeddedPostgres(data / "postgres").destroy()
        if saved is not None:
            os.environ["NOTES_DATABASE_URL"] = saved


def test_a_retry_landing_on_the_other_process_gets_the_first_answer(
    two_servers: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = two_servers
    assert httpx.post(f"{first.base_url}/users/", json=ACCOUNT).status_code == 201
    token = httpx.post(f"{second.base_url}/auth/token", data=ACCOUNT).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "once"}
    body = {"title": "pay the rent"}

    original = httpx.post(f"{first.base_url}/notes/", json=body, headers=headers)
    retry = httpx.post(f"{second.base_url}/notes/", json=body, headers=headers)
    assert original.status_code == retry.status_code == 201
    assert retry.content == original.content
    assert retry.headers["location"] == original.headers["location"]

    racing = {**headers, "Idempotency-Key": "raced"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda base: httpx.post(f"{base}/notes/", json={"title": "raced"}, headers=racing),
                [first.base_url, second.base_url] * 4,
            )
        )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1

    listed = httpx.get(f"{first.base_url}/notes/", headers={"Authorization": f"Bearer {token}"})
    assert sorted(n["title"] for n in listed.json()) == ["pay the rent", "raced"]
