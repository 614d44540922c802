"""Driving the HTTP app in-process: a container on a chosen unit-of-work factory, the app's
lifespan, and an httpx client over the ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
from dependency_injector import providers
from fastapi import FastAPI

from application import UnitOfWorkFactory
from entrypoints.container import Container
from entrypoints.http import create_app
from entrypoints.settings import MEMORY_URL, Settings
from tests.support import fast_password_hasher

PROBLEM_JSON = "application/problem+json"


SECRET_KEY = "test-signing-key-Vq7wJ2nR9xKp4LzT8mYc3HdF6gBs0eUa"
PASSWORD = "correct horse battery"


def make_settings(**values: Any) -> Settings:
    """Settings from the given values only (no environment, no ``.env``); ``memory://``
    unless a database URL is given, and a fixed signing key unless one is given."""
    options: dict[str, Any] = {
        "_env_file": None,
        "database_url": MEMORY_URL,
        "secret_key": SECRET_KEY,
        # Tests of webhook delivery turn it on; elsewhere it would only poll.
        "webhooks_worker": False,
        **values,
    }
    return Settings(**options)


def container_over(uow_factory: UnitOfWorkFactory | None = None, **settings: Any) -> Container:
    """A container configured by ``settings``, with ``uow_factory`` as its persistence if
    given, and Argon2 at parameters cheap enough for tests."""
    container = Container(settings=providers.Object(make_settings(**settings)))
    container.password_hasher.override(providers.Singleton(fast_password_hasher))
    if uow_factory is not None:
        container.uow_factory.override(providers.Object(uow_factory))
    return container


async def sign_in(client: httpx.AsyncClient, username: str = "alice") -> UUID:
    """Register ``username`` through the API unless it exists, log in, and send its access
    token with every later request of ``client``; the user's id."""
    registered = await client.post("/users/", json={"username": username, "password": PASSWORD})
    assert registered.status_code in (201, 409), registered.text
    session = await client.post("/auth/token", data={"username": username, "password": PASSWORD})
    assert session.status_code == 200, session.text
    client.headers["Authorization"] = f"Bearer {session.json()['access_token']}"
    me = await client.get("/users/me")
    assert me.status_code == 200, me.text
    return UUID(me.json()["id"])


def bearer_for(app: FastAPI, user_id: UUID) -> dict[str, str]:
    """An ``Authorization`` header for ``user_id``, signed by ``app``'s key without asking
    storage (for apps whose storage is meant to fail)."""
    container: Container = app.state.container
    token = container.access_tokens().issue(user_id, datetime.now(UTC)).token
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def serving(
    app: FastAPI, *, raise_app_exceptions: bool = True, as_user: UUID | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app``, between the app's start-up and its shutdown.

    With ``raise_app_exceptions`` an exception the app lets escape (as Starlette does after
    answering 500, for the server to log) is raised in the test; without, the client gets
    the response the app sent. With ``as_user`` every request carries an access token for
    that user, made without asking storage.
    """
    transport = httpx.ASGITransport(app, raise_app_exceptions=raise_app_exceptions)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://notes.test") as client,
    ):
        if as_user is not None:
            client.headers.update(bearer_for(app, as_user))
        yield client


def app_over(uow_factory: UnitOfWorkFactory | None = None, **settings: Any) -> FastAPI:
    """The API over ``container_over(uow_factory, **settings)``."""
    return create_app(container_over(uow_factory, **settings))


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem with ``status``; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert isinstance(problem["type"], str)
    assert isinstance(problem["title"], str)
    assert isinstance(problem["detail"], str)
    return problem
