"""The notes endpoints, as a client uses them, on every backend."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from domain import MAX_TAGS
from tests.api.client import assert_problem

MISSING_ID = "0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e11"


async def _create(client: httpx.AsyncClient, title: str = "Groceries", **fields: Any) -> Any:
    response = await client.post("/notes/", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def _timestamp(value: str) -> datetime:
    assert value.endswith("Z"), value
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() is not None
    return moment


async def test_the_tutorial_flow_create_list_get_replace_delete(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post("/notes/", json={"title": "Groceries", "description": "milk, eggs"})
    assert created.status_code == 201
    note = created.json()
    assert note["title"] == "Groceries"
    assert note["description"] == "milk, eggs"
    assert note["version"] == 1

    listed = await client.get("/notes/")
    assert listed.status_code == 200
    assert listed.json() == [note]

    fetched = await client.get(f"/notes/{note['id']}/")
    assert fetched.status_code == 200
    assert fetched.json() == note

    replaced = await client.put(
        f"/notes/{note['id']}/", json={"title": "Shopping", "description": "bread"}
    )
    assert replaced.status_code == 200
    assert replaced.json()["title"] == "Shopping"
    assert replaced.json()["description"] == "bread"
    assert replaced.json()["version"] == 2

    deleted = await client.delete(f"/notes/{note['id']}/")
    assert deleted.status_code == 204
    assert deleted.content == b""

    gone = await client.get(f"/notes/{note['id']}/")
    problem = assert_problem(gone, 404)
    assert note["id"] in problem["detail"]
    assert (await client.get("/notes/")).json() == []


async def test_create_answers_the_note_with_its_location_and_etag(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/notes/", json={"title": "Groceries", "description": "milk", "tags": ["home"]}
    )
    assert response.status_code == 201
    note = response.json()
    assert set(note) == {
        "id",
        "title",
        "description",
        "tags",
        "created_date",
        "updated_date",
        "version",
        "owner",
    }
    me = (await client.get("/users/me")).json()
    assert note["owner"] == me["username"]
    assert response.headers["location"] == f"/notes/{note['id']}"
    assert response.headers["etag"] == '"1"'
    assert _timestamp(note["created_date"]) == _timestamp(note["updated_date"])
    assert (await client.get(response.headers["location"])).json() == note


async def test_create_applies_the_note_rules_and_defaults(client: httpx.AsyncClient) -> None:
    note = await _create(client, "  Groceries \n", tags=["Home", "weekly", "home"])
    assert note["title"] == "Groceries"
    assert note["tags"] == ["home", "weekly"]
    assert note["description"] == ""
    bare = await _create(client, "Bare")
    assert (bare["description"], bare["tags"]) == ("", [])


async def test_list_is_newest_first_and_pages_with_limit_and_skip(
    client: httpx.AsyncClient,
) -> None:
    ids = [(await _create(client, f"note {n}"))["id"] for n in range(5)]
    newest_first = ids[::-1]
    assert [n["id"] for n in (await client.get("/notes/")).json()] == newest_first
    page = await client.get("/notes/", params={"limit": 2, "skip": 1})
    assert [n["id"] for n in page.json()] == newest_first[1:3]
    beyond = await client.get("/notes/", params={"skip": 5})
    assert beyond.json() == []


async def test_list_returns_100_notes_unless_asked_for_up_to_500(
    client: httpx.AsyncClient,
) -> None:
    for n in range(101):
        await _create(client, f"note {n}")
    assert len((await client.get("/notes/")).json()) == 100
    assert len((await client.get("/notes/", params={"limit": 500})).json()) == 101


async def test_get_answers_the_version_as_etag_and_304_when_the_client_is_current(
    client: httpx.AsyncClient,
) -> None:
    note = await _create(client)
    url = f"/notes/{note['id']}"
    fetched = await client.get(url)
    assert fetched.headers["etag"] == '"1"'

    for current in ('"1"', 'W/"1"', '"7", "1"', "*"):
        unchanged = await client.get(url, headers={"If-None-Match": current})
        assert unchanged.status_code == 304, current
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == '"1"'

    await client.patch(url, json={"title": "Changed"})
    stale = await client.get(url, headers={"If-None-Match": '"1"'})
    assert stale.status_code == 200
    assert stale.headers["etag"] == '"2"'
    assert stale.json()["title"] == "Changed"


async def test_put_replaces_every_field_and_bumps_the_version(client: httpx.AsyncClient) -> None:
    note = await _create(client, description="milk", tags=["home"])
    response = await client.put(f"/notes/{note['id']}", json={"title": "Only a title"})
    assert response.status_code == 200
    replaced = response.json()
    assert replaced["id"] == note["id"]
    assert (replaced["title"], replaced["description"], replaced["tags"]) == (
        "Only a title",
        "",
        [],
    )
    assert replaced["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert replaced["created_date"] == note["created_date"]
    assert _timestamp(replaced["updated_date"]) >= _timestamp(note["updated_date"])
    assert (await client.get(f"/notes/{note['id']}")).json() == replaced


async def test_patch_changes_only_the_fields_sent(client: httpx.AsyncClient) -> None:
    note = await _create(client, description="milk", tags=["home"])
    url = f"/notes/{note['id']}"

    titled = (await client.patch(url, json={"title": "Shopping"})).json()
    assert (titled["title"], titled["description"], titled["tags"]) == (
        "Shopping",
        "milk",
        ["home"],
    )
    tagged = await client.patch(url, json={"tags": ["Weekly"], "description": ""})
    assert tagged.status_code == 200
    assert tagged.headers["etag"] == '"3"'
    body = tagged.json()
    assert (body["title"], body["description"], body["tags"], body["version"]) == (
        "Shopping",
        "",
        ["weekly"],
        3,
    )


@pytest.mark.parametrize(
    ("method", "body"),
    [("PUT", {"title": "Stale"}), ("PATCH", {"title": "Stale"}), ("DELETE", None)],
)
async def test_a_write_with_a_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, method: str, body: dict[str, Any] | None
) -> None:
    note = await _create(client)
    url = f"/notes/{note['id']}"
    await client.patch(url, json={"description": "now at version 2"})
    before = (await client.get(url)).json()

    response = await client.request(method, url, json=body, headers={"If-Match": '"1"'})

    problem = assert_problem(response, 412)
    assert "version 2" in problem["detail"]
    assert (await client.get(url)).json() == before


@pytest.mark.parametrize("if_match", ['"2"', "*"])
async def test_a_write_with_a_current_if_match_succeeds(
    client: httpx.AsyncClient, if_match: str
) -> None:
    note = await _create(client)
    url = f"/notes/{note['id']}"
    await client.patch(url, json={"description": "now at version 2"})

    replaced = await client.put(url, json={"title": "Fresh"}, headers={"If-Match": if_match})
    assert replaced.status_code == 200
    assert replaced.json()["version"] == 3
    deleted = await client.delete(url, headers={"If-Match": '"3"'})
    assert deleted.status_code == 204


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("GET", None),
        ("PUT", {"title": "x"}),
        ("PATCH", {"title": "x"}),
        ("DELETE", None),
    ],
)
async def test_an_unknown_note_is_404(
    client: httpx.AsyncClient, method: str, body: dict[str, Any] | None
) -> None:
    await _create(client)
    response = await client.request(method, f"/notes/{MISSING_ID}", json=body)
    problem = assert_problem(response, 404)
    assert MISSING_ID in problem["detail"]


@pytest.mark.parametrize(
    ("field", "value", "loc"),
    [
        ("title", "   ", ["body", "title"]),
        ("title", "x" * 201, ["body", "title"]),
        ("description", "x" * 100_001, ["body", "description"]),
        ("tags", ["ok", "not ok"], ["body", "tags", 1]),
        ("tags", [f"t{n}" for n in range(MAX_TAGS + 1)], ["body", "tags"]),
    ],
)
async def test_a_broken_rule_is_422_naming_the_field(
    client: httpx.AsyncClient, field: str, value: Any, loc: list[Any]
) -> None:
    body = {"title": "Groceries", field: value}
    problem = assert_problem(await client.post("/notes/", json=body), 422)
    [error] = problem["errors"]
    assert error["loc"] == loc
    assert error["msg"]


@pytest.mark.parametrize("slash", ["", "/"])
async def test_every_route_answers_with_and_without_the_trailing_slash(
    client: httpx.AsyncClient, slash: str
) -> None:
    created = await client.post(f"/notes{slash}", json={"title": "Groceries"})
    assert created.status_code == 201
    note_url = f"/notes/{created.json()['id']}{slash}"

    answers = [
        (await client.get(f"/notes{slash}")).status_code,
        (await client.get(note_url)).status_code,
        (await client.put(note_url, json={"title": "Shopping"})).status_code,
        (await client.patch(note_url, json={"tags": ["home"]})).status_code,
        (await client.delete(note_url)).status_code,
    ]
    assert answers == [200, 200, 200, 200, 204]


async def test_a_nul_character_is_refused_on_every_backend_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    for body in ({"title": "a\x00b"}, {"title": "ok", "description": "nul\x00here"}):
        response = await client.post("/notes/", json=body)
        assert response.status_code == 422, response.text
    assert (await client.get("/notes/")).json() == []
