"""What a user relies on after a copy, through the API: the same password, the same
sessions (refresh and access tokens, with the same signing key), the same idempotent
answers."""

from __future__ import annotations

from application.copying import Copy
from tests.api.client import PASSWORD, app_over, serving
from tests.copy.conftest import OpenDatabase


async def test_a_session_started_on_the_source_goes_on_against_the_target(
    open_database: OpenDatabase,
) -> None:
    async with open_database("sqlite") as (_, source), open_database("postgres") as (_, target):
        async with serving(app_over(source)) as on_source:
            registered = await on_source.post(
                "/users/", json={"username": "alice", "password": PASSWORD}
            )
            assert registered.status_code == 201
            session = (
                await on_source.post(
                    "/auth/token", data={"username": "alice", "password": PASSWORD}
                )
            ).json()
            bearer = {"Authorization": f"Bearer {session['access_token']}"}
            draft = {"title": "kept", "description": "across backends"}
            created = await on_source.post(
                "/notes/", json=draft, headers={**bearer, "Idempotency-Key": "k-1"}
            )
            assert created.status_code == 201

        await Copy(source, target).copy()

        async with serving(app_over(target)) as on_target:
            refreshed = await on_target.post(
                "/auth/refresh", json={"refresh_token": session["refresh_token"]}
            )
            assert refreshed.status_code == 200, refreshed.text
            # The refresh token was used: presented again, it is refused, as on the source.
            replayed = await on_target.post(
                "/auth/refresh", json={"refresh_token": session["refresh_token"]}
            )
            assert replayed.status_code == 401
            listed = await on_target.get("/notes/", headers=bearer)
            assert [n["id"] for n in listed.json()] == [created.json()["id"]]
            retried = await on_target.post(
                "/notes/", json=draft, headers={**bearer, "Idempotency-Key": "k-1"}
            )
            assert retried.status_code == 201
            assert retried.json() == created.json()
            logged_in = await on_target.post(
                "/auth/token", data={"username": "alice", "password": PASSWORD}
            )
            assert logged_in.status_code == 200
