"""The webhook endpoints, every status they answer, on every backend."""

from __future__ import annotations

import httpx
import pytest

from tests.api.client import assert_problem, sign_in

MISSING_ID = "0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e11"
PUBLIC_URL = "https://93.184.216.34/hooks"


async def _register(client: httpx.AsyncClient, **body: object) -> dict[str, object]:
    response = await client.post(
        "/users/me/webhooks", json={"url": PUBLIC_URL, "events": ["note.created"], **body}
    )
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def test_a_webhook_is_created_with_its_secret_shown_once(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/users/me/webhooks",
        json={"url": PUBLIC_URL, "events": ["note.deleted", "note.created", "note.created"]},
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert set(created) == {"id", "url", "events", "created_date", "secret"}
    assert created["url"] == PUBLIC_URL
    assert created["events"] == ["note.created", "note.deleted"]
    assert created["secret"].startswith("whsec_")
    listed = await client.get("/users/me/webhooks/")
    assert listed.status_code == 200
    assert listed.json() == [{k: v for k, v in created.items() if k != "secret"}]
    assert created["secret"] not in listed.text


async def test_each_user_sees_and_deletes_only_their_own_webhooks(
    client: httpx.AsyncClient,
) -> None:
    mine = await _register(client)
    alice = client.headers["Authorization"]
    await sign_in(client, "bob")
    assert (await client.get("/users/me/webhooks")).json() == []
    assert_problem(await client.delete(f"/users/me/webhooks/{mine['id']}"), 404)
    assert_problem(await client.get(f"/users/me/webhooks/{mine['id']}/deliveries"), 404)
    client.headers["Authorization"] = alice
    assert len((await client.get("/users/me/webhooks")).json()) == 1


async def test_deleting_a_webhook_stops_it(client: httpx.AsyncClient) -> None:
    created = await _register(client)
    deliveries = await client.get(f"/users/me/webhooks/{created['id']}/deliveries/")
    assert deliveries.status_code == 200
    assert deliveries.json() == []
    assert (await client.delete(f"/users/me/webhooks/{created['id']}")).status_code == 204
    assert (await client.get("/users/me/webhooks")).json() == []
    problem = assert_problem(await client.delete(f"/users/me/webhooks/{created['id']}"), 404)
    assert problem["type"].endswith("webhook-not-found")
    assert_problem(await client.get(f"/users/me/webhooks/{MISSING_ID}/deliveries"), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/", "events": ["note.created"]}, "url"),
        ({"url": "https://u:p@93.184.216.34/", "events": ["note.created"]}, "url"),
        ({"url": "http://127.0.0.1:8000/", "events": ["note.created"]}, "url"),
        ({"url": "http://169.254.169.254/latest/", "events": ["note.created"]}, "url"),
        ({"url": "http://[::1]/", "events": ["note.created"]}, "url"),
        ({"url": "http://192.168.0.10/", "events": ["note.created"]}, "url"),
        ({"url": "https://no-such-host.invalid/", "events": ["note.created"]}, "url"),
        ({"url": PUBLIC_URL, "events": ["note.exploded"]}, "events"),
        ({"url": PUBLIC_URL, "events": []}, "events"),
        ({"url": PUBLIC_URL}, "events"),
        ({"url": 5, "events": ["note.created"]}, "url"),
        ({"url": "https://93.184.216.34/" + "a" * 3000, "events": ["note.created"]}, "url"),
        ({"url": PUBLIC_URL, "events": ["note.created"], "secret": "mine"}, "secret"),
    ],
)
async def test_a_bad_webhook_is_a_422_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    problem = assert_problem(await client.post("/users/me/webhooks", json=body), 422)
    assert any(field in error["loc"] for error in problem["errors"]), problem
    assert (await client.get("/users/me/webhooks")).json() == []


async def test_a_user_has_a_bounded_number_of_webhooks(client: httpx.AsyncClient) -> None:
    for _ in range(20):
        await _register(client)
    assert_problem(
        await client.post(
            "/users/me/webhooks", json={"url": PUBLIC_URL, "events": ["note.created"]}
        ),
        422,
    )


async def test_webhooks_need_an_access_token(anonymous: httpx.AsyncClient) -> None:
    for method, path in (
        ("POST", "/users/me/webhooks"),
        ("GET", "/users/me/webhooks"),
        ("DELETE", f"/users/me/webhooks/{MISSING_ID}"),
        ("GET", f"/users/me/webhooks/{MISSING_ID}/deliveries"),
    ):
        assert_problem(await anonymous.request(method, path), 401)


async def test_malformed_bodies_and_ids(client: httpx.AsyncClient) -> None:
    assert_problem(
        await client.post(
            "/users/me/webhooks", content=b"{", headers={"content-type": "application/json"}
        ),
        400,
    )
    assert_problem(await client.delete("/users/me/webhooks/not-a-uuid"), 422)
