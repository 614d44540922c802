"""Personal access tokens: every status of ``/users/me/tokens``, and tokens on the notes
endpoints (their shortcuts included), on every backend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from dependency_injector import providers

from application import UnitOfWorkFactory
from tests.api.client import app_over, assert_problem, serving, sign_in
from tests.support import ManualClock

TOKENS = "/users/me/tokens"
MISSING_ID = "0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e11"
INSUFFICIENT = 'Bearer error="insufficient_scope"'


async def _token(client: httpx.AsyncClient, *scopes: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "sync client", "scopes": list(scopes), **fields}
    response = await client.post(TOKENS, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _bearer(token: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['token']}"}


async def test_a_token_is_shown_once_listed_without_its_secret_and_records_its_use(
    client: httpx.AsyncClient,
) -> None:
    created = await _token(client, "notes:write", "notes:read", expires_in_days=7)
    assert created["token"].startswith("nst_")
    assert created["scopes"] == ["notes:read", "notes:write"]
    assert created["last_used_date"] is None
    assert set(created) == {
        "id", "name", "scopes", "created_date", "expires_date", "last_used_date", "token"
    }  # fmt: skip
    assert (await client.get("/notes/", headers=_bearer(created))).status_code == 200
    listed = await client.get(TOKENS)
    assert listed.status_code == 200
    [shown] = listed.json()
    assert "token" not in shown
    assert created["token"] not in listed.text
    assert shown["id"] == created["id"]
    assert shown["last_used_date"] is not None
    default = await _token(client, "notes:read")
    assert default["expires_date"] > created["expires_date"]  # 90 days by default


async def test_a_read_only_token_reads_and_is_refused_every_write(
    client: httpx.AsyncClient,
) -> None:
    note = (await client.post("/notes/", json={"title": "mine"})).json()
    reader = _bearer(await _token(client, "notes:read"))
    assert (await client.get(f"/notes/{note['id']}", headers=reader)).json()["title"] == "mine"
    assert (await client.get("/notes/", headers=reader)).status_code == 200
    assert (await client.get("/notes/changes", headers=reader)).status_code == 200
    assert (await client.get("/trash/", headers=reader)).status_code == 200
    writes = [
        client.post("/notes/", json={"title": "x"}, headers=reader),  # the shortcut
        client.post("/notes/", json={"title": "x"}, headers={**reader, "X-Other": "1"}),
        client.patch(f"/notes/{note['id']}", json={"title": "x"}, headers=reader),
        client.delete(f"/notes/{note['id']}", headers=reader),
        client.post("/notes/import", json=[{"title": "x"}], headers=reader),
    ]
    for write in writes:
        response = await write
        problem = assert_problem(response, 403)
        assert problem["type"].endswith("insufficient-scope")
        assert response.headers["WWW-Authenticate"] == INSUFFICIENT
    assert (await client.get(f"/notes/{note['id']}")).json()["version"] == 1


async def test_a_write_token_writes_and_reads(client: httpx.AsyncClient) -> None:
    writer = _bearer(await _token(client, "notes:write"))
    created = await client.post("/notes/", json={"title": "from a program"}, headers=writer)
    assert created.status_code == 201
    note_id = created.json()["id"]
    assert (await client.get(f"/notes/{note_id}", headers=writer)).status_code == 200
    patched = await client.patch(f"/notes/{note_id}", json={"title": "x"}, headers=writer)
    assert patched.status_code == 200
    assert (await client.delete(f"/notes/{note_id}", headers=writer)).status_code == 204
    assert (await client.post(f"/trash/{note_id}/restore", headers=writer)).status_code == 200


async def test_a_token_cannot_manage_tokens_or_the_account(client: httpx.AsyncClient) -> None:
    created = await _token(client, "notes:read", "notes:write")
    pat = _bearer(created)
    for response in [
        await client.post(TOKENS, json={"name": "n", "scopes": ["notes:read"]}, headers=pat),
        await client.get(TOKENS, headers=pat),
        await client.delete(f"{TOKENS}/{created['id']}", headers=pat),
        await client.get("/users/me", headers=pat),
    ]:
        assert_problem(response, 403)
        assert response.headers["WWW-Authenticate"] == INSUFFICIENT
    assert len((await client.get(TOKENS)).json()) == 1


async def test_revoking_takes_effect_at_once(client: httpx.AsyncClient) -> None:
    created = await _token(client, "notes:read")
    pat = _bearer(created)
    assert (await client.get("/notes/", headers=pat)).status_code == 200
    assert (await client.delete(f"{TOKENS}/{created['id']}")).status_code == 204
    for path in ("/notes/", f"/notes/{MISSING_ID}", "/notes/changes"):
        assert_problem(await client.get(path, headers=pat), 401)
    assert_problem(await client.delete(f"{TOKENS}/{created['id']}"), 404)
    assert (await client.get(TOKENS)).json() == []


async def test_another_users_token_is_not_found(client: httpx.AsyncClient) -> None:
    alices = await _token(client, "notes:read")
    await sign_in(client, "bob")
    assert_problem(await client.delete(f"{TOKENS}/{alices['id']}"), 404)
    assert (await client.get(TOKENS)).json() == []


async def test_malformed_forged_and_unauthenticated_requests(
    client: httpx.AsyncClient,
) -> None:
    for body in [
        {"name": "n", "scopes": ["notes:admin"]},
        {"name": "n", "scopes": []},
        {"name": "", "scopes": ["notes:read"]},
        {"name": "n" * 101, "scopes": ["notes:read"]},
        {"name": "n", "scopes": ["notes:read"], "expires_in_days": 0},
        {"name": "n", "scopes": ["notes:read"], "expires_in_days": 366},
        {"name": "n"},
    ]:
        assert_problem(await client.post(TOKENS, json=body), 422)
    assert_problem(await client.delete(f"{TOKENS}/not-a-uuid"), 422)
    real = (await _token(client, "notes:read"))["token"]
    for forged in ["nst_", "nst_" + "0" * 100, real[:-3] + "abc", real + "x", "nst_" + real[4:]]:
        if forged == real:
            continue
        response = await client.get("/notes/", headers={"Authorization": f"Bearer {forged}"})
        assert_problem(response, 401)
    anonymous = {"Authorization": ""}
    assert_problem(await client.get(TOKENS, headers=anonymous), 401)
    assert_problem(await client.post(TOKENS, json={}, headers=anonymous), 401)


async def test_an_expired_token_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    app = app_over(uow_factory)
    clock = ManualClock()
    app.state.container.clock.override(providers.Object(clock))
    async with serving(app) as client:
        await sign_in(client)
        pat = _bearer(await _token(client, "notes:read", expires_in_days=1))
        clock.advance(timedelta(hours=23))
        assert (await client.get("/notes/", headers=pat)).status_code == 200
        clock.advance(timedelta(hours=1))
        assert_problem(await client.get("/notes/", headers=pat), 401)
