"""Safe writes over HTTP, on every backend: conditional and concurrent writes, idempotent
creation, all-or-nothing import, and streamed export."""

from __future__ import annotations

import asyncio
import json

import httpx

from application import UnitOfWorkFactory
from tests.api.client import app_over, assert_problem, serving, sign_in
from tests.support_faults import failing_bulk_writes


async def _note(client: httpx.AsyncClient) -> str:
    created = await client.post("/notes/", json={"title": "shared", "tags": []})
    note_id: str = created.json()["id"]
    return note_id


async def test_of_20_writes_from_one_version_exactly_one_wins(client: httpx.AsyncClient) -> None:
    url = f"/notes/{await _note(client)}"
    answers = await asyncio.gather(
        *(
            client.patch(url, json={"title": f"t{i}"}, headers={"If-Match": '"1"'})
            for i in range(20)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [412] * 19
    for answer in answers:
        if answer.status_code == 412:
            assert_problem(answer, 412)
    current = await client.get(url)
    assert current.json()["version"] == 2
    assert current.headers["etag"] == '"2"'


async def test_20_unconditional_writes_all_apply(client: httpx.AsyncClient) -> None:
    url = f"/notes/{await _note(client)}"
    answers = await asyncio.gather(
        *(client.patch(url, json={"tags": [f"t{i}"]}) for i in range(20))
    )
    assert [a.status_code for a in answers] == [200] * 20
    assert sorted(a.json()["version"] for a in answers) == list(range(2, 22))
    assert (await client.get(url)).json()["version"] == 21


async def test_racing_retries_with_one_key_create_one_note(client: httpx.AsyncClient) -> None:
    body = {"title": "pay the rent", "tags": ["home"]}
    answers = await asyncio.gather(
        *(
            client.post("/notes/", json=body, headers={"Idempotency-Key": "rent-2026-11"})
            for _ in range(10)
        )
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    assert len({a.headers["location"] for a in answers}) == 1
    assert len((await client.get("/notes/")).json()) == 1


async def test_a_retry_gets_the_first_answer_even_after_the_note_changed(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post("/notes/", json={"title": "a"}, headers={"Idempotency-Key": "k"})
    await client.patch(first.headers["location"], json={"title": "changed"})
    retry = await client.post("/notes/", json={"title": "a"}, headers={"Idempotency-Key": "k"})
    assert (retry.status_code, retry.content, retry.headers["etag"]) == (201, first.content, '"1"')


async def test_a_key_reused_with_another_body_is_409(client: httpx.AsyncClient) -> None:
    await client.post("/notes/", json={"title": "a"}, headers={"Idempotency-Key": "k"})
    assert_problem(
        await client.post("/notes/", json={"title": "b"}, headers={"Idempotency-Key": "k"}), 409
    )
    assert len((await client.get("/notes/")).json()) == 1


async def test_a_malformed_key_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/notes/", json={"title": "a"}, headers={"Idempotency-Key": "x" * 256}
    )
    assert_problem(response, 422)
    assert (await client.get("/notes/")).json() == []


def _import(count: int) -> list[dict[str, object]]:
    return [{"title": f"imported {i}", "tags": ["import"]} for i in range(count)]


async def test_an_import_creates_all_its_notes(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes/import", json=_import(1000))
    assert response.status_code == 201
    assert [n["title"] for n in response.json()][:2] == ["imported 0", "imported 1"]
    assert len((await client.get("/notes/?limit=500&tag=import")).json()) == 500


async def test_an_import_whose_600th_note_breaks_a_rule_creates_nothing(
    client: httpx.AsyncClient,
) -> None:
    notes = _import(1000)
    notes[599]["tags"] = ["fine", "Not Fine"]
    problem = assert_problem(await client.post("/notes/import", json=notes), 422)
    assert problem["errors"][0]["loc"] == ["body", 599, "tags", 1]
    notes[599] = {"title": 42}
    problem = assert_problem(await client.post("/notes/import", json=notes), 422)
    assert problem["errors"][0]["loc"] == ["body", 599, "title"]
    assert (await client.get("/notes/")).json() == []


async def test_an_import_of_more_than_1000_is_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/notes/import", json=_import(1001)), 422)
    assert_problem(await client.post("/notes/import", json=[]), 422)
    assert (await client.get("/notes/")).json() == []


async def test_an_import_the_database_fails_half_way_is_503_and_creates_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with serving(app_over(failing_bulk_writes(uow_factory, at_row=500))) as client:
        await sign_in(client)
        answer = await client.post("/notes/import", json=_import(1000))
        assert_problem(answer, 503)
        assert "retry-after" in answer.headers
        assert (await client.get("/notes/")).json() == []


async def test_an_import_retried_with_its_key_is_not_imported_twice(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post("/notes/import", json=_import(3), headers={"Idempotency-Key": "imp"})
    again = await client.post("/notes/import", json=_import(3), headers={"Idempotency-Key": "imp"})
    assert first.content == again.content
    assert len((await client.get("/notes/")).json()) == 3


async def test_export_streams_every_note_as_ndjson(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        assert (await client.post("/notes/import", json=_import(600))).status_code == 201
    response = await client.get("/notes/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = response.content.decode().splitlines()
    exported = [json.loads(line) for line in lines]
    assert len(exported) == 1200
    assert len({n["id"] for n in exported}) == 1200
    assert [n["created_date"] for n in exported] == sorted(n["created_date"] for n in exported)
    await sign_in(client, "bob")
    assert (await client.get("/notes/export")).content == b""


async def test_a_server_that_requires_if_match_answers_428_without_it() -> None:
    async with serving(app_over(require_if_match=True)) as client:
        await sign_in(client)
        url = f"/notes/{await _note(client)}"
        for method, body in (("PUT", {"title": "b"}), ("PATCH", {"title": "b"}), ("DELETE", None)):
            assert_problem(await client.request(method, url, json=body), 428)
        assert (await client.get(url)).json()["version"] == 1
        answer = await client.patch(url, json={"title": "b"}, headers={"If-Match": '"1"'})
        assert answer.status_code == 200
