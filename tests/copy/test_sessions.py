"""What a user relies on after a copy: the same password, the same sessions (refresh and
access tokens, with the same signing key), the same idempotent answers, the same personal
access tokens and feed cursors (through the API); webhooks signed with the same secret that
go on from where they were (through the use cases)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from adapters.system import Uuid7Factory
from adapters.webhooks import StandardWebhookSigning
from application import NoteDraft, Notes
from application.copying import Copy
from application.webhook_delivery import DeliverWebhooks
from application.webhooks import Webhooks
from domain import User, Username
from domain.revisions import RevisionPolicy
from entrypoints.http.webhook_schemas import JsonMessageEncoder
from tests.api.client import PASSWORD, app_over, serving
from tests.copy.conftest import OpenDatabase
from tests.support import START, ManualClock
from tests.unit.test_webhook_delivery import URL, RecordingSender
from tests.webhook_receiver import Received, verify


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


async def test_a_personal_token_and_a_feed_cursor_of_the_source_work_against_the_target(
    open_database: OpenDatabase,
) -> None:
    async with open_database("sqlite") as (_, source), open_database("postgres") as (_, target):
        async with serving(app_over(source)) as on_source:
            registered = await on_source.post(
                "/users/", json={"username": "alice", "password": PASSWORD}
            )
            owner = UUID(registered.json()["id"])
            session = (
                await on_source.post(
                    "/auth/token", data={"username": "alice", "password": PASSWORD}
                )
            ).json()
            made = await on_source.post(
                "/users/me/tokens",
                json={"name": "sync", "scopes": ["notes:read", "notes:write"]},
                headers={"Authorization": f"Bearer {session['access_token']}"},
            )
            assert made.status_code == 201, made.text
            pat = {"Authorization": f"Bearer {made.json()['token']}"}
            first = await on_source.post("/notes/", json={"title": "one"}, headers=pat)
            synced = await on_source.get("/notes/changes", headers=pat)
            assert [c["id"] for c in synced.json()["changes"]] == [first.json()["id"]]
            assert synced.json()["more"] is False
            # A change after the cursor, before the copy.
            second = await on_source.post("/notes/", json={"title": "two"}, headers=pat)
            assert second.status_code == 201
        async with source() as uow:
            last_on_source = await uow.events.last(owner)

        await Copy(source, target).copy()

        async with serving(app_over(target)) as on_target:
            listed = await on_target.get("/notes/", headers=pat)
            assert listed.status_code == 200, listed.text
            assert len(listed.json()) == 2
            since = {"since": synced.json()["cursor"]}
            page = await on_target.get("/notes/changes", params=since, headers=pat)
            assert page.status_code == 200, page.text
            assert [c["id"] for c in page.json()["changes"]] == [second.json()["id"]]
            edited = await on_target.patch(
                f"/notes/{first.json()['id']}", json={"title": "one, edited"}, headers=pat
            )
            assert edited.status_code == 200
            since = {"since": page.json()["cursor"]}
            later = await on_target.get("/notes/changes", params=since, headers=pat)
            changes = later.json()["changes"]
            assert [(c["id"], c["version"]) for c in changes] == [(first.json()["id"], 2)]
        # The target's next event got the number after the source's last.
        async with target() as uow:
            assert await uow.events.last(owner) == last_on_source + 1


async def test_a_webhook_keeps_its_secret_and_does_not_resend_what_was_delivered(
    open_database: OpenDatabase,
) -> None:
    clock, ids = ManualClock(), Uuid7Factory()
    signing = StandardWebhookSigning("service-key-" + "x" * 32)
    alice = User(id=ids.new_id(), username=Username("alice"), password_hash="-", created_date=START)

    def service(database: Any) -> tuple[Notes, Webhooks, DeliverWebhooks, RecordingSender]:
        sender = RecordingSender()
        notes = Notes(database, clock, ids, revisions=RevisionPolicy(3))
        webhooks = Webhooks(database, clock, ids, signing, sender)
        deliver = DeliverWebhooks(
            database,
            clock,
            ids,
            sender,
            signing,
            JsonMessageEncoder(),
            jitter=lambda: 1.0,
        )
        return notes, webhooks, deliver, sender

    async with open_database("sqlite") as (_, source), open_database("postgres") as (_, target):
        async with source() as uow:
            await uow.users.add(alice)
            await uow.commit()
        notes, webhooks, deliver, sender = service(source)
        registered = await webhooks.register(alice.id, URL, ["note.created"])
        await notes.create_note(alice.id, NoteDraft("delivered on the source"))
        assert await deliver() == 1
        assert len(sender.sent) == 1

        await Copy(source, target).copy()

        clock.advance(timedelta(minutes=1))
        notes, _, deliver, sender = service(target)
        created = await notes.create_note(alice.id, NoteDraft("made on the target"))
        assert await deliver() == 1
        ((_, headers, body),) = sender.sent
        assert body["data"]["note"]["id"] == str(created.id)
        message = Received(0.0, "/", headers, sender.bodies[0], 200)
        assert verify(registered.secret, message, tolerance=float("inf")) == body
        assert await deliver() == 0
