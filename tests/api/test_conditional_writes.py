"""``If-Match`` as RFC 9110 defines it, and ``Cache-Control: no-store`` on notes and tokens,
on every backend."""

from __future__ import annotations

import httpx
import pytest

from tests.api.client import PASSWORD, app_over, assert_problem, serving, sign_in


async def _note(client: httpx.AsyncClient) -> str:
    created = await client.post("/notes/", json={"title": "shared", "tags": ["a"]})
    assert created.status_code == 201
    note_id: str = created.json()["id"]
    return note_id


@pytest.mark.parametrize("header", ['"1"', '"7", "1"', '"1","2"', 'W/"9", "1"', "*", ' "1" '])
async def test_a_list_holding_the_current_tag_or_a_star_matches(
    client: httpx.AsyncClient, header: str
) -> None:
    url = f"/notes/{await _note(client)}"
    answer = await client.patch(url, json={"title": "changed"}, headers={"If-Match": header})
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == 2
    assert answer.headers["etag"] == '"2"'


@pytest.mark.parametrize("header", ['"2"', '"2", "3"', 'W/"1"', '"abc"'])
async def test_a_list_without_the_current_tag_is_412_with_the_current_etag(
    client: httpx.AsyncClient, header: str
) -> None:
    url = f"/notes/{await _note(client)}"
    for method, body in (("PUT", {"title": "x"}), ("PATCH", {"title": "x"}), ("DELETE", None)):
        answer = await client.request(method, url, json=body, headers={"If-Match": header})
        assert_problem(answer, 412)
        assert answer.headers["etag"] == '"1"'
    current = await client.get(url)
    assert current.json()["title"] == "shared"
    assert current.json()["version"] == 1


@pytest.mark.parametrize("header", ["1", '"1', "1, 2", '"1" "2"', "", ",", "W/1", '"1";x'])
async def test_a_malformed_if_match_is_400_and_changes_nothing(
    client: httpx.AsyncClient, header: str
) -> None:
    url = f"/notes/{await _note(client)}"
    for method, body in (("PUT", {"title": "x"}), ("PATCH", {"title": "x"}), ("DELETE", None)):
        answer = await client.request(method, url, json=body, headers={"If-Match": header})
        problem = assert_problem(answer, 400)
        assert "If-Match" in problem["detail"]
    assert (await client.get(url)).json()["version"] == 1


async def test_a_star_on_a_missing_note_is_404(client: httpx.AsyncClient) -> None:
    url = "/notes/01930000-0000-7000-8000-000000000000"
    assert_problem(await client.patch(url, json={"title": "x"}, headers={"If-Match": "*"}), 404)


async def test_a_server_that_requires_if_match_takes_a_star_and_a_list() -> None:
    async with serving(app_over(require_if_match=True)) as client:
        await sign_in(client)
        url = f"/notes/{await _note(client)}"
        first = await client.patch(url, json={"title": "b"}, headers={"If-Match": "*"})
        assert first.status_code == 200
        second = await client.patch(url, json={"title": "c"}, headers={"If-Match": '"1", "2"'})
        assert second.json()["version"] == 3


async def test_notes_and_tokens_are_not_stored_by_caches(client: httpx.AsyncClient) -> None:
    note_id = await _note(client)
    url = f"/notes/{note_id}"
    answers = [
        await client.get(url),
        await client.get("/notes/"),
        await client.patch(url, json={"title": "y"}),
        await client.post("/notes/", json={"title": "z"}),
        await client.post("/notes/import", json=[{"title": "w"}]),
        await client.get("/notes/export"),
        await client.post("/auth/token", data={"username": "alice", "password": PASSWORD}),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert answer.headers["cache-control"] == "no-store", answer.request.url
