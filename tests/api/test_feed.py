"""``GET /notes/changes``: every status it answers, on every backend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from dependency_injector import providers

from application import UnitOfWorkFactory
from tests.api.client import app_over, assert_problem, serving, sign_in
from tests.support import ManualClock

CHANGES = "/notes/changes"


async def _create(client: httpx.AsyncClient, title: str) -> Any:
    response = await client.post("/notes/", json={"title": title})
    assert response.status_code == 201, response.text
    return response.json()


async def _follow(client: httpx.AsyncClient, since: str | None, limit: int = 500) -> list[Any]:
    """Every answer until ``more`` is false."""
    answers = []
    while True:
        params: dict[str, Any] = {"limit": limit}
        if since is not None:
            params["since"] = since
        response = await client.get(CHANGES, params=params)
        assert response.status_code == 200, response.text
        assert response.headers["Cache-Control"] == "no-store"
        answers.append(response.json())
        since = response.json()["cursor"]
        if not response.json()["more"]:
            return answers


async def test_a_new_client_gets_every_note_then_each_change_once_in_its_latest_state(
    client: httpx.AsyncClient,
) -> None:
    first, second, third = [await _create(client, t) for t in ("one", "two", "three")]
    start = await _follow(client, None, limit=2)
    assert len(start) == 2
    assert [c["id"] for a in start for c in a["changes"]] == [
        first["id"], second["id"], third["id"]
    ]  # fmt: skip
    assert start[0]["changes"][0] == {
        "id": first["id"],
        "change": "upsert",
        "version": 1,
        "note": first,
        "changed_date": first["updated_date"],
    }
    cursor = start[-1]["cursor"]
    assert (await _follow(client, cursor))[0]["changes"] == []
    await client.patch(f"/notes/{first['id']}", json={"title": "one, edited"})
    await client.patch(f"/notes/{first['id']}", json={"title": "one, again"})
    assert (await client.delete(f"/notes/{second['id']}")).status_code == 204
    fourth = await _create(client, "four")
    [answer] = await _follow(client, cursor)
    changes = answer["changes"]
    assert [c["id"] for c in changes] == [first["id"], second["id"], fourth["id"]]
    assert changes[0]["note"]["title"] == "one, again"
    assert changes[0]["version"] == 3
    assert changes[1] == {
        "id": second["id"],
        "change": "delete",
        "version": 1,
        "note": None,
        "changed_date": changes[1]["changed_date"],
    }
    assert changes[2]["change"] == "upsert"
    assert changes[2]["note"] == fourth
    # Paged: more, then the rest, each note at most once per answer.
    await client.post(f"/trash/{second['id']}/restore")
    paged = await _follow(client, answer["cursor"], limit=1)
    assert [c["id"] for a in paged for c in a["changes"]] == [second["id"]]


async def test_the_feed_is_the_callers_own(client: httpx.AsyncClient) -> None:
    await _create(client, "alice's")
    alice = client.headers["Authorization"]
    cursor = (await _follow(client, None))[-1]["cursor"]
    await sign_in(client, "bob")
    assert (await _follow(client, None))[0]["changes"] == []
    await _create(client, "bob's")
    client.headers["Authorization"] = alice
    assert (await _follow(client, cursor))[0]["changes"] == []


async def test_changes_is_not_read_as_a_note_id(client: httpx.AsyncClient) -> None:
    assert (await client.get("/notes/changes/")).status_code == 200
    assert (await client.get("/notes/changes")).json()["changes"] == []


async def test_bad_requests(client: httpx.AsyncClient) -> None:
    for params in ({"limit": 0}, {"limit": 1001}, {"limit": "x"}, {"since": "x" * 1001}):
        assert_problem(await client.get(CHANGES, params=params), 422)
    await _create(client, "a")
    await _create(client, "b")
    listing = await client.get("/notes/", params={"limit": 1})
    list_cursor = listing.links["next"]["url"].split("cursor=")[1]
    for since in ("garbage", "a.b", list_cursor):
        problem = assert_problem(await client.get(CHANGES, params={"since": since}), 400)
        assert problem["type"].endswith("invalid-cursor")
    cursor = (await _follow(client, None))[-1]["cursor"]
    payload, mac = cursor.split(".")
    forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + mac
    assert_problem(await client.get(CHANGES, params={"since": forged}), 400)
    client.headers.pop("Authorization")
    assert_problem(await client.get(CHANGES), 401)


async def test_a_cursor_older_than_the_retention_must_start_again(
    uow_factory: UnitOfWorkFactory,
) -> None:
    app = app_over(uow_factory, feed_retention_days=30)
    clock = ManualClock()
    app.state.container.clock.override(providers.Object(clock))
    async with serving(app) as client:
        await sign_in(client)
        made = await client.post(
            "/users/me/tokens",
            json={"name": "sync", "scopes": ["notes:read"], "expires_in_days": 365},
        )
        client.headers["Authorization"] = f"Bearer {made.json()['token']}"
        cursor = (await _follow(client, None))[-1]["cursor"]
        clock.advance(timedelta(days=29))
        assert (await client.get(CHANGES, params={"since": cursor})).status_code == 200
        clock.advance(timedelta(days=1, seconds=1))
        problem = assert_problem(await client.get(CHANGES, params={"since": cursor}), 410)
        assert problem["type"].endswith("resync-required")
        assert (await client.get(CHANGES)).status_code == 200
