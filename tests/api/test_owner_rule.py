"""The rule for tables that belong to a user, held without a sharded database: every
per-user table's keys start with its owner column, and every statement each endpoint sends
PostgreSQL constrains the owner by equality (``tests.owner_rule``; the contract and API
suites are checked test by test in ``tests/conftest.py``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sqlalchemy import metadata
from adapters.sqlalchemy.tables import placement
from application import UnitOfWorkFactory
from entrypoints.container import Container
from tests.api.client import PASSWORD, sign_in
from tests.backends import open_backend
from tests.owner_rule import OWNERS, SERVICE_STATEMENTS, key_violations, kinds, violations


@pytest.fixture
def uow_factory(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    """PostgreSQL only: the statements recorded are PostgreSQL's."""
    return open_backend(request, "postgres")


def test_every_table_says_how_it_is_placed_on_a_sharded_database() -> None:
    placed = {table.name: placement(table) for table in metadata.sorted_tables}
    assert placed["users"] == "reference"
    assert {"notes", "refresh_tokens", "login_failures", "idempotency_keys"} <= set(OWNERS)
    assert all(placed[name] == "per-user" for name in OWNERS)


def _keys(connection: sa.Connection) -> list[tuple[str, list[str], list[list[str]]]]:
    inspector = sa.inspect(connection)
    found = []
    for name in OWNERS:
        primary = inspector.get_pk_constraint(name)["constrained_columns"]
        uniques = [u["column_names"] for u in inspector.get_unique_constraints(name)]
        uniques += [i["column_names"] for i in inspector.get_indexes(name) if i["unique"]]
        found.append((name, primary, uniques))
    return found


@pytest.fixture(params=["postgres", "sqlite"])
def migrated_url(request: pytest.FixtureRequest) -> str:
    """A database of each kind, migrated to the newest revision."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


async def test_the_keys_of_every_per_user_table_start_with_its_owner(migrated_url: str) -> None:
    declared = [
        (
            table.name,
            [column.name for column in table.primary_key.columns],
            [
                [column.name for column in constraint.columns]
                for constraint in table.constraints
                if isinstance(constraint, sa.UniqueConstraint)
            ]
            + [[c.name for c in index.columns] for index in table.indexes if index.unique],
        )
        for table in metadata.sorted_tables
    ]
    assert key_violations(declared) == []
    engine = create_async_engine(migrated_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            migrated = await connection.run_sync(_keys)
    finally:
        await engine.dispose()
    assert key_violations(migrated) == []
    assert {name for name, _, _ in migrated} == set(OWNERS)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT notes.id FROM notes WHERE notes.id = $1::UUID",
        "SELECT id FROM notes WHERE owner_id > $1",
        "SELECT n.id FROM notes AS n WHERE n.id = $1 OR n.owner_id = $2",
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2",
        "DELETE FROM login_failures WHERE failed_at < $1",
        "INSERT INTO refresh_tokens (id, token_hash) VALUES ($1, $2)",
        "SELECT notes.id FROM notes WHERE notes.owner_id = notes.owner_id",
        "SELECT u.id FROM users AS u JOIN notes ON notes.id = u.id WHERE u.id = $1",
        "SELECT id FROM notes WHERE owner_id = $1 AND id IN (SELECT id FROM notes WHERE id = $2)",
        "TRUNCATE notes",
    ],
)
def test_the_rule_refuses_a_statement_that_leaves_the_owner_open(sql: str) -> None:
    assert violations(sql), sql


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT notes.id FROM notes WHERE notes.id = $1::UUID AND notes.owner_id = $2::UUID",
        "SELECT id FROM notes WHERE (owner_id = $1) AND tags @> $2 FOR UPDATE",
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND family_id = $3",
        "DELETE FROM login_failures WHERE username_key = $1 AND failed_at < $2",
        "INSERT INTO notes (id, owner_id, title) VALUES ($1, $2, $3), ($4, $5, $6)",
        "SELECT users.id FROM users WHERE users.username_key = $1",
        "BEGIN ISOLATION LEVEL READ COMMITTED",
    ],
)
def test_the_rule_accepts_a_statement_that_constrains_the_owner(sql: str) -> None:
    assert violations(sql) == []


async def _exercise(client: httpx.AsyncClient) -> set[tuple[str, str]]:
    """Call every operation, in the ways that reach storage differently; the (method,
    path template) pairs called."""
    called: set[tuple[str, str]] = set()

    async def call(method: str, template: str, path: str, **options: Any) -> httpx.Response:
        called.add((method, template))
        response = await client.request(method, path, **options)
        assert response.status_code < 500, (method, path, response.text)
        return response

    await call("POST", "/users/", "/users/", json={"username": "bob", "password": PASSWORD})
    await call("POST", "/auth/token", "/auth/token", data={"username": "bob", "password": "nope"})
    await call("POST", "/auth/token", "/auth/token", data={"username": "bob", "password": PASSWORD})
    session = (
        await call(
            "POST", "/auth/token", "/auth/token", data={"username": "bob", "password": PASSWORD}
        )
    ).json()
    first = session["refresh_token"]
    renewed = await call("POST", "/auth/refresh", "/auth/refresh", json={"refresh_token": first})
    await call("POST", "/auth/refresh", "/auth/refresh", json={"refresh_token": first})  # replay
    await call("POST", "/auth/logout", "/auth/logout", json=renewed.json())
    await call("GET", "/users/me", "/users/me")
    body = {"title": "Groceries", "description": "milk and eggs", "tags": ["home"]}
    created = await call("POST", "/notes/", "/notes/", json=body)
    await call("POST", "/notes/", "/notes/", json=body, headers={"Idempotency-Key": "k1"})
    await call("POST", "/notes/", "/notes/", json=body, headers={"Idempotency-Key": "k1"})
    note = created.json()["id"]
    one = "/notes/{note_id}"
    await call("GET", one, f"/notes/{note}")
    await call("PUT", one, f"/notes/{note}", json=body, headers={"If-Match": '"1"'})
    await call("PATCH", one, f"/notes/{note}", json={"title": "Shopping"})
    for query in ({}, {"q": "milk", "order": "relevance"}, {"tag": "home", "limit": 1}):
        listed = await call("GET", "/notes/", "/notes/", params=query)
        if "next" in listed.links:
            await call("GET", "/notes/", listed.links["next"]["url"])
    await call("POST", "/notes/import", "/notes/import", json=[body, body])
    exported = await call("GET", "/notes/export", "/notes/export")
    assert len(exported.text.splitlines()) == 4  # one, one keyed, two imported
    revisions = "/notes/{note_id}/revisions"
    listed = await call("GET", revisions, f"/notes/{note}/revisions", params={"limit": 1})
    await call("GET", revisions, listed.links["next"]["url"])
    await call("GET", revisions + "/{version}", f"/notes/{note}/revisions/1")
    restore = revisions + "/{version}/restore"
    await call("POST", restore, f"/notes/{note}/revisions/1/restore", headers={"If-Match": '"3"'})
    # Sharing: a grantee (dora) reads and writes through her index; links by token.
    await call("POST", "/users/", "/users/", json={"username": "dora", "password": PASSWORD})
    shares = "/notes/{note_id}/shares"
    await call(
        "PUT", shares + "/{username}", f"/notes/{note}/shares/dora", json={"permission": "read"}
    )
    await call(
        "PUT", shares + "/{username}", f"/notes/{note}/shares/dora", json={"permission": "write"}
    )
    await call("GET", shares, f"/notes/{note}/shares")
    links = "/notes/{note_id}/links"
    link = (await call("POST", links, f"/notes/{note}/links", json={})).json()
    await call("GET", links, f"/notes/{note}/links")
    await call("GET", "/public/{token}", link["url"].removeprefix("http://notes.test"))
    await call("GET", "/public/{token}", "/public/" + link["url"].rsplit("/", 1)[1] + "x")
    owner_token = client.headers["Authorization"]
    await call(
        "POST", "/auth/token", "/auth/token", data={"username": "dora", "password": PASSWORD}
    )
    dora = (
        await client.post("/auth/token", data={"username": "dora", "password": PASSWORD})
    ).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {dora}"
    await call("GET", one, f"/notes/{note}")
    await call("PATCH", one, f"/notes/{note}", json={"title": "Dora's"})
    for query in ({}, {"q": "milk", "order": "relevance"}, {"tag": "home", "limit": 1}):
        listed = await call("GET", "/shared/", "/shared/", params=query)
        if "next" in listed.links:
            await call("GET", "/shared/", listed.links["next"]["url"])
    client.headers["Authorization"] = owner_token
    await call("DELETE", shares + "/{username}", f"/notes/{note}/shares/dora")
    await call("DELETE", links + "/{link_id}", f"/notes/{note}/links/{link['id']}")
    await call(
        "PUT", shares + "/{username}", f"/notes/{note}/shares/dora", json={"permission": "read"}
    )
    await call("POST", links, f"/notes/{note}/links", json={})
    await call("DELETE", one, f"/notes/{note}", headers={"If-Match": '"5"'})
    other = (await call("POST", "/notes/", "/notes/", json=body)).json()["id"]
    await call("DELETE", one, f"/notes/{other}")
    trashed = await call("GET", "/trash/", "/trash/", params={"limit": 1})
    await call("GET", "/trash/", trashed.links["next"]["url"])
    await call("GET", "/trash/{note_id}", f"/trash/{note}")
    await call("POST", "/trash/{note_id}/restore", f"/trash/{note}/restore")
    await call("DELETE", "/trash/{note_id}", f"/trash/{other}")
    changes = await call("GET", "/notes/changes", "/notes/changes", params={"limit": 1})
    since = changes.json()["cursor"]
    while changes.json()["more"]:  # the snapshot, then the log
        changes = await call("GET", "/notes/changes", "/notes/changes", params={"since": since})
        since = changes.json()["cursor"]
    await call("GET", "/notes/changes", "/notes/changes", params={"since": since})
    tokens = "/users/me/tokens"
    made = await call("POST", tokens, tokens, json={"name": "sync", "scopes": ["notes:read"]})
    pat = {"Authorization": f"Bearer {made.json()['token']}"}
    await call("GET", one, f"/notes/{note}", headers=pat)
    await call("GET", one, f"/notes/{note}", headers=pat)  # its use recorded once a minute
    await call("GET", tokens, tokens)
    await call("DELETE", tokens + "/{token_id}", f"{tokens}/{made.json()['id']}")
    hooks = "/users/me/webhooks"
    hook = {"url": "https://93.184.216.34/hooks", "events": ["note.created"]}
    webhook = (await call("POST", hooks, hooks, json=hook)).json()["id"]
    await call("GET", hooks, hooks)
    deliveries = hooks + "/{webhook_id}/deliveries"
    await call("GET", deliveries, f"{hooks}/{webhook}/deliveries")
    await call("DELETE", hooks + "/{webhook_id}", f"{hooks}/{webhook}")
    await call("DELETE", one, f"/notes/{note}")
    await call("DELETE", "/trash/{note_id}", f"/trash/{note}")  # with its shares and links
    for path in ("/healthz", "/readyz", "/metrics"):
        await call("GET", path, path)
    return called


async def test_every_endpoint_constrains_the_owner_of_every_per_user_table_it_touches(
    anonymous: httpx.AsyncClient, shared_app: tuple[FastAPI, Container]
) -> None:
    await sign_in(anonymous, "carol")
    SERVICE_STATEMENTS.take()
    called = await _exercise(anonymous)
    await asyncio.sleep(0)  # asyncpg hands its query loggers the last statements now
    statements = SERVICE_STATEMENTS.take()

    operations = {
        (method.upper(), path)
        for path, methods in shared_app[0].openapi()["paths"].items()
        for method in methods
    }
    assert operations - called == set(), "add a call to _exercise for each new operation"
    assert [line for sql in statements for line in violations(sql)] == []
    reached: set[tuple[str, str]] = set().union(*(kinds(sql) for sql in statements))
    expected: dict[str, set[str]] = {
        "notes": {"select", "lock", "insert", "update", "delete"},
        "refresh_tokens": {"lock", "insert", "update"},
        "login_failures": {"select", "insert", "delete"},
        "idempotency_keys": {"select", "insert", "delete"},
        "note_revisions": {"select", "insert", "delete"},
        "trashed_notes": {"select", "insert", "delete"},
        "note_events": {"select", "insert"},
        # Written by the trigger that numbers events at commit (migration 0011).
        "note_event_heads": {"select"},
        "personal_tokens": {"select", "insert", "update", "delete"},
        # Sharing again changes the permission: an INSERT … ON CONFLICT DO UPDATE.
        "note_shares": {"select", "insert", "delete"},
        "shared_notes": {"select", "insert", "delete"},
        "note_links": {"select", "insert", "delete"},
        # Written only by the quota's triggers on notes, in the statement that changes notes.
        "note_usage": set(),
        "webhooks": {"select", "insert", "delete"},
        # Written by the delivery worker, not by a request (tests/e2e/test_webhooks.py).
        "webhook_deliveries": {"select", "delete"},
    }
    assert set(expected) == set(OWNERS), "say what the endpoints do to each per-user table"
    missing = {(table, kind) for table, kinds_ in expected.items() for kind in kinds_} - reached
    assert missing == set(), json.dumps(sorted(missing))
