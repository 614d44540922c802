"""A user cannot grow storage without bound: past the quota on notes or on stored bytes a
write is a 403 problem that changes nothing, on every backend, even when many writes race."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from adapters.memory import MemoryDatabase
from adapters.sqlalchemy.quota import set_quota
from application import UnitOfWorkFactory
from application.quota import Quota
from tests.api.client import assert_problem


@pytest.fixture
async def quota(uow_factory: UnitOfWorkFactory) -> Quota:
    """Three notes, 1,000 bytes, on the backend under test (its tables are emptied, the
    quota row with them, before the next test)."""
    limits = Quota(max_notes=3, max_bytes=1000)
    database = getattr(uow_factory, "__self__", None)
    if isinstance(database, MemoryDatabase):
        database.quota = limits
    else:
        await set_quota(database.engine, limits)  # type: ignore[union-attr]
    return limits


def _assert_quota_problem(answer: httpx.Response, what: str) -> None:
    problem = assert_problem(answer, 403)
    assert problem["type"] == "urn:notes-service:problem:quota-exceeded"
    assert what in problem["detail"]


async def _count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/notes/")).json())


async def test_notes_past_the_quota_are_refused(client: httpx.AsyncClient, quota: Quota) -> None:
    for n in range(quota.max_notes):
        assert (await client.post("/notes/", json={"title": f"note {n}"})).status_code == 201
    _assert_quota_problem(await client.post("/notes/", json={"title": "one too many"}), "notes")
    _assert_quota_problem(await client.post("/notes/import", json=[{"title": "imported"}]), "notes")
    assert await _count(client) == quota.max_notes
    first = (await client.get("/notes/")).json()[0]
    assert (await client.delete(f"/notes/{first['id']}")).status_code == 204
    assert (await client.post("/notes/", json={"title": "room again"})).status_code == 201


async def test_an_import_past_the_quota_creates_none(
    client: httpx.AsyncClient, quota: Quota
) -> None:
    batch = [{"title": f"imported {n}"} for n in range(quota.max_notes + 1)]
    _assert_quota_problem(await client.post("/notes/import", json=batch), "notes")
    assert await _count(client) == 0


async def test_bytes_past_the_quota_are_refused_and_shrinking_is_not(
    client: httpx.AsyncClient, quota: Quota
) -> None:
    created = await client.post("/notes/", json={"title": "big", "description": "x" * 900})
    assert created.status_code == 201
    note = created.json()
    _assert_quota_problem(
        await client.post("/notes/", json={"title": "more", "description": "é" * 60}),
        "stored bytes",
    )
    _assert_quota_problem(
        await client.patch(f"/notes/{note['id']}", json={"description": "x" * 1000}),
        "stored bytes",
    )
    assert (await client.get(f"/notes/{note['id']}")).json() == note
    shrunk = await client.patch(f"/notes/{note['id']}", json={"description": "x" * 10})
    assert shrunk.status_code == 200
    assert (await client.post("/notes/", json={"title": "fits now"})).status_code == 201


async def test_racing_creates_never_overshoot_the_quota(
    client: httpx.AsyncClient, quota: Quota
) -> None:
    answers = await asyncio.gather(
        *(client.post("/notes/", json={"title": f"racer {n}"}) for n in range(12))
    )
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses[201] == quota.max_notes
    assert await _count(client) == quota.max_notes
    assert set(statuses) <= {201, 403, 409}
