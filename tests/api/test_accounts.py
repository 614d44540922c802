"""Accounts over HTTP, on every backend: registration, login, sessions, and who may see what."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from tests.api.client import PASSWORD, app_over, assert_problem, serving, sign_in
from tests.support import ManualClock

NOTE = {"title": "Groceries", "description": "milk", "tags": ["home"]}


async def _register(client: httpx.AsyncClient, username: str = "alice") -> httpx.Response:
    return await client.post("/users/", json={"username": username, "password": PASSWORD})


async def _log_in(
    client: httpx.AsyncClient, username: str = "alice", password: str = PASSWORD
) -> httpx.Response:
    return await client.post("/auth/token", data={"username": username, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_register_answers_the_public_account_only(anonymous: httpx.AsyncClient) -> None:
    response = await _register(anonymous, "Alice.B")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username", "created_date"}
    assert body["username"] == "Alice.B"
    assert body["created_date"].endswith("Z")
    assert PASSWORD not in response.text


async def test_a_username_taken_in_any_case_is_409(anonymous: httpx.AsyncClient) -> None:
    await _register(anonymous, "alice")
    assert_problem(await _register(anonymous, "ALICE"), 409)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "al", "password": PASSWORD}, "username"),
        ({"username": "with space", "password": PASSWORD}, "username"),
        ({"username": "alice", "password": "short"}, "password"),
        ({"username": "alice", "password": "x" * 129}, "password"),
    ],
)
async def test_registration_rules_are_422_naming_the_field(
    anonymous: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    problem = assert_problem(await anonymous.post("/users/", json=body), 422)
    assert problem["errors"][0]["loc"] == ["body", field]
    assert (await _log_in(anonymous, body["username"], body["password"])).status_code == 401


async def test_login_gives_a_bearer_pair(anonymous: httpx.AsyncClient) -> None:
    await _register(anonymous)
    response = await _log_in(anonymous)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["access_token"]
    assert body["refresh_token"]
    me = await anonymous.get("/users/me", headers=_bearer(body["access_token"]))
    assert me.json()["username"] == "alice"


async def test_a_wrong_password_and_an_unknown_user_get_byte_identical_401s(
    anonymous: httpx.AsyncClient,
) -> None:
    await _register(anonymous)
    wrong_password = await _log_in(anonymous, "alice", "not the password")
    unknown_user = await _log_in(anonymous, "mallory", PASSWORD)
    assert_problem(wrong_password, 401)
    assert wrong_password.content == unknown_user.content
    assert wrong_password.headers["www-authenticate"] == "Bearer"
    assert unknown_user.headers["www-authenticate"] == "Bearer"


async def test_five_failed_logins_are_then_429_with_retry_after(
    anonymous: httpx.AsyncClient,
) -> None:
    await _register(anonymous)
    for _ in range(5):
        assert (await _log_in(anonymous, "alice", "not the password")).status_code == 401
    refused = await _log_in(anonymous)
    assert_problem(refused, 429)
    assert 0 < int(refused.headers["retry-after"]) <= 15 * 60


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "01900000-0000-7000-8000-000000000000"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def test_notes_need_a_valid_bearer_token(anonymous: httpx.AsyncClient) -> None:
    await _register(anonymous)
    token = (await _log_in(anonymous)).json()["access_token"]
    refresh = (await _log_in(anonymous)).json()["refresh_token"]
    refused: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="},
        {"Authorization": token},
        _bearer("not-a-jwt"),
        _bearer(_tampered(token)),
        _bearer(refresh),
    ]
    for headers in refused:
        for method, url in (("GET", "/notes/"), ("POST", "/notes/"), ("GET", "/users/me")):
            response = await anonymous.request(method, url, headers=headers, json=NOTE)
            assert_problem(response, 401)
            assert response.headers["www-authenticate"].startswith("Bearer"), headers
    assert (await anonymous.get("/notes/", headers=_bearer(token))).status_code == 200


async def test_an_expired_access_token_is_401() -> None:
    clock = ManualClock()
    app = app_over()
    app.state.container.clock.override(providers.Object(clock))
    async with serving(app) as client:
        await sign_in(client)
        assert (await client.get("/notes/")).status_code == 200
        clock.advance(timedelta(minutes=15))
        assert_problem(await client.get("/notes/"), 401)


async def test_a_refresh_token_works_once_and_its_replay_revokes_the_family(
    anonymous: httpx.AsyncClient,
) -> None:
    await _register(anonymous)
    first = (await _log_in(anonymous)).json()
    second = await anonymous.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    renewed = second.json()
    assert (await anonymous.get("/users/me", headers=_bearer(renewed["access_token"]))).is_success

    replay = await anonymous.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_problem(replay, 401)
    after_replay = await anonymous.post(
        "/auth/refresh", json={"refresh_token": renewed["refresh_token"]}
    )
    assert_problem(after_replay, 401)


async def test_logout_revokes_the_refresh_token(anonymous: httpx.AsyncClient) -> None:
    await _register(anonymous)
    session = (await _log_in(anonymous)).json()
    body = {"refresh_token": session["refresh_token"]}
    assert (await anonymous.post("/auth/logout", json=body)).status_code == 204
    assert_problem(await anonymous.post("/auth/refresh", json=body), 401)
    assert (await anonymous.post("/auth/logout", json=body)).status_code == 204


async def _as(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    await sign_in(client, username)
    headers = {"Authorization": client.headers["Authorization"]}
    del client.headers["Authorization"]
    return headers


async def test_two_users_never_see_each_others_notes(anonymous: httpx.AsyncClient) -> None:
    alice, bob = await _as(anonymous, "alice"), await _as(anonymous, "bob")
    created = await anonymous.post("/notes/", json=NOTE, headers=alice)
    note: dict[str, Any] = created.json()
    url = f"/notes/{note['id']}"
    await anonymous.post("/notes/", json={"title": "bob's own"}, headers=bob)

    assert [n["title"] for n in (await anonymous.get("/notes/", headers=bob)).json()] == [
        "bob's own"
    ]
    for method, body in (
        ("GET", None),
        ("PUT", {"title": "taken"}),
        ("PATCH", {"title": "x"}),
        ("DELETE", None),
    ):
        response = await anonymous.request(method, url, json=body, headers=bob)
        problem = assert_problem(response, 404)
        assert problem["status"] == 404

    mine = await anonymous.get(url, headers=alice)
    assert mine.json() == note
    assert [n["id"] for n in (await anonymous.get("/notes/", headers=alice)).json()] == [note["id"]]
