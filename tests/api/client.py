"""Driving the HTTP app in-process: a container on a chosen unit-of-work factory, the app's
lifespan, and an httpx client over the ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from dependency_injector import providers
from fastapi import FastAPI

from application import UnitOfWorkFactory
from entrypoints.container import Container
from entrypoints.http import create_app
from entrypoints.settings import MEMORY_URL, Settings

PROBLEM_JSON = "application/problem+json"


def make_settings(**values: Any) -> Settings:
    """Settings from the given values only (no environment, no ``.env``); ``memory://``
    unless a database URL is given."""
    options: dict[str, Any] = {"_env_file": None, "database_url": MEMORY_URL, **values}
    return Settings(**options)


def container_over(uow_factory: UnitOfWorkFactory | None = None, **settings: Any) -> Container:
    """A container configured by ``settings``, with ``uow_factory`` as its persistence if given."""
    container = Container(settings=providers.Object(make_settings(**settings)))
    if uow_factory is not None:
        container.uow_factory.override(providers.Object(uow_factory))
    return container


@asynccontextmanager
async def serving(
    app: FastAPI, *, raise_app_exceptions: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app``, between the app's start-up and its shutdown.

    With ``raise_app_exceptions`` an exception the app lets escape (as Starlette does after
    answering 500, for the server to log) is raised in the test; without, the client gets
    the response the app sent.
    """
    transport = httpx.ASGITransport(app, raise_app_exceptions=raise_app_exceptions)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://notes.test") as client,
    ):
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
