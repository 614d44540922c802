"""Listing over HTTP, on every backend: filters, search, orders, and paging by the Link
header's cursor."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.api.client import assert_problem, sign_in

_NEXT = re.compile(r'<([^>]+)>; rel="next"')


async def _create(client: httpx.AsyncClient, count: int, **fields: Any) -> list[str]:
    ids = []
    for i in range(count):
        body = {"title": f"note {i}", **fields}
        ids.append((await client.post("/notes/", json=body)).json()["id"])
    return ids


def _next_url(response: httpx.Response) -> str | None:
    found = _NEXT.fullmatch(response.headers.get("link", ""))
    return found.group(1) if found else None


async def test_following_link_visits_every_note_once(client: httpx.AsyncClient) -> None:
    ids = await _create(client, 7, tags=["paged"], description="sourdough")
    url: str | None = "/notes/?limit=3&tag=paged&q=sourdough"
    seen: list[str] = []
    pages = 0
    while url is not None:
        response = await client.get(url)
        assert response.status_code == 200
        seen += [note["id"] for note in response.json()]
        pages += 1
        url = _next_url(response)
        if url is not None:
            assert "tag=paged" in url
            assert "q=sourdough" in url
            assert "limit=3" in url
    assert seen == ids[::-1]
    assert pages == 3


async def test_a_full_last_page_has_no_link(client: httpx.AsyncClient) -> None:
    await _create(client, 2)
    assert "link" not in (await client.get("/notes/?limit=2")).headers
    assert "link" in (await client.get("/notes/?limit=1")).headers


async def test_search_tags_and_orders_over_http(client: httpx.AsyncClient) -> None:
    milk = (await client.post("/notes/", json={"title": "Milk", "description": "milk"})).json()
    also = (await client.post("/notes/", json={"title": "Bread", "description": "milk"})).json()
    await client.post("/notes/", json={"title": "Other", "tags": ["home"]})
    assert [n["id"] for n in (await client.get("/notes/?q=milk")).json()] == [
        also["id"],
        milk["id"],
    ]
    ranked = (await client.get("/notes/?q=milk&order=relevance")).json()
    assert [n["id"] for n in ranked] == [milk["id"], also["id"]]
    oldest_first = (await client.get("/notes/?order=created_asc")).json()
    assert oldest_first[0]["id"] == milk["id"]
    assert [n["title"] for n in (await client.get("/notes/?tag=HOME")).json()] == ["Other"]


async def test_another_users_notes_never_match(client: httpx.AsyncClient) -> None:
    await client.post("/notes/", json={"title": "alice milk", "tags": ["home"]})
    await sign_in(client, "bob")
    assert (await client.get("/notes/?q=milk")).json() == []
    assert (await client.get("/notes/?tag=home")).json() == []


async def _a_cursor(client: httpx.AsyncClient) -> str:
    await _create(client, 3)
    url = _next_url(await client.get("/notes/?limit=1"))
    assert url is not None
    return str(httpx.URL(url).params["cursor"])


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),
        lambda c: "x" + c,
        lambda c: c.split(".")[0],
        lambda c: "not-a-cursor",
        lambda c: "%%%.%%%",
        lambda c: c.replace(".", ".."),
    ],
    ids=["tampered-mac", "tampered-payload", "truncated", "garbage", "not-base64", "extra-dot"],
)
async def test_a_forged_or_garbled_cursor_is_400(client: httpx.AsyncClient, mangle: Any) -> None:
    cursor = await _a_cursor(client)
    before = (await client.get("/notes/")).json()
    problem = assert_problem(await client.get("/notes/", params={"cursor": mangle(cursor)}), 400)
    assert "cursor" in problem["detail"]
    assert (await client.get("/notes/")).json() == before


async def test_a_cursor_is_valid_only_for_its_own_listing(client: httpx.AsyncClient) -> None:
    cursor = await _a_cursor(client)
    assert (await client.get("/notes/", params={"cursor": cursor, "limit": 5})).status_code == 200
    for other in ({"order": "created_asc"}, {"tag": "home"}, {"q": "note"}):
        assert_problem(await client.get("/notes/", params={"cursor": cursor, **other}), 400)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("order=relevance", "order"),
        ("q=***", "q"),
        ("q=" + "%20".join(f"w{i}" for i in range(21)), "q"),
        ("tag=not%20a%20tag", "tag"),
        ("order=sideways", "order"),
    ],
)
async def test_listing_rules_are_422_naming_the_parameter(
    client: httpx.AsyncClient, query: str, field: str
) -> None:
    problem = assert_problem(await client.get(f"/notes/?{query}"), 422)
    assert problem["errors"][0]["loc"] == ["query", field]


async def test_skip_with_a_cursor_is_422(client: httpx.AsyncClient) -> None:
    cursor = await _a_cursor(client)
    problem = assert_problem(await client.get("/notes/", params={"cursor": cursor, "skip": 1}), 422)
    assert problem["errors"][0]["loc"] == ["query", "skip"]
