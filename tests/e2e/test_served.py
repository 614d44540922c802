"""The service as a user runs it: ``notes serve`` with nothing configured, over HTTP, on the
embedded PostgreSQL it starts itself; stopped and started again, it still has the user and
the notes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.embedded_postgres import EmbeddedPostgres
from tests.e2e.server import ServerProcess


@pytest.fixture
def unconfigured(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a fresh machine: no database URL, data kept under ``tmp_path``."""
    env = {"NOTES_DATA_DIR": str(tmp_path / "data"), "NOTES_LOG_LEVEL": "warning"}
    saved = os.environ.pop("NOTES_DATABASE_URL", None)
    yield env
    EmbeddedPostgres(tmp_path / "data" / "postgres").destroy()
    if saved is not None:
        os.environ["NOTES_DATABASE_URL"] = saved


def _signed_in(http: httpx.Client) -> None:
    account = {"username": "alice", "password": "correct horse battery"}
    assert http.post("/users/", json=account).status_code in (201, 409)
    session = http.post("/auth/token", data=account)
    assert session.status_code == 200
    http.headers["Authorization"] = f"Bearer {session.json()['access_token']}"


def test_the_tutorial_flow_survives_a_restart(unconfigured: dict[str, str]) -> None:
    server = ServerProcess(unconfigured).start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            assert http.get("/notes/").status_code == 401
            _signed_in(http)
            created = http.post("/notes/", json={"title": "Groceries", "description": "milk"})
            assert created.status_code == 201
            note = created.json()
            assert created.headers["location"].endswith(f"/notes/{note['id']}")

            assert [n["id"] for n in http.get("/notes/").json()] == [note["id"]]
            assert http.get(f"/notes/{note['id']}").json() == note

            replaced = http.put(
                f"/notes/{note['id']}", json={"title": "Shopping", "description": ""}
            )
            assert replaced.status_code == 200
            assert (replaced.json()["title"], replaced.json()["version"]) == ("Shopping", 2)

            assert http.delete(f"/notes/{note['id']}").status_code == 204
            assert http.get(f"/notes/{note['id']}").status_code == 404

            kept = http.post("/notes/", json={"title": "Kept", "tags": ["durable"]}).json()
    finally:
        assert server.stop() == 0
    assert not EmbeddedPostgres(Path(unconfigured["NOTES_DATA_DIR"]) / "postgres").is_running()

    again = ServerProcess(unconfigured).start()
    try:
        with httpx.Client(base_url=again.base_url, timeout=30) as http:
            # The same user logs in again: the account, its notes and the signing key
            # (generated on the first start and kept in the data directory) all persisted.
            _signed_in(http)
            assert http.get("/notes").json() == [kept]
    finally:
        assert again.stop() == 0
