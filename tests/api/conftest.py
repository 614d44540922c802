"""The API tests run on each kind of storage in ``tests.backends.API_BACKENDS``.

One app is built for the session (FastAPI builds a validator for every parameter of every
route when an app is made, which takes longer than most tests); every test overrides the
app's container's unit-of-work factory with an empty database and runs the app's whole
lifespan around its requests.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers
from fastapi import FastAPI

from adapters.embedded_postgres import EmbeddedPostgres
from application import UnitOfWorkFactory
from entrypoints.container import Container
from entrypoints.http import create_app
from tests.api.client import container_over, serving, sign_in
from tests.backends import API_BACKENDS, open_backend


@pytest.fixture(params=API_BACKENDS)
def uow_factory(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    return open_backend(request, request.param)


@pytest.fixture(scope="session")
def shared_app() -> tuple[FastAPI, Container]:
    container = container_over()
    return create_app(container), container


@pytest.fixture
async def anonymous(
    shared_app: tuple[FastAPI, Container], uow_factory: UnitOfWorkFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the API over an empty database of one backend, signed in as nobody."""
    app, container = shared_app
    with container.uow_factory.override(providers.Object(uow_factory)):
        async with serving(app) as client:
            yield client


@pytest.fixture
async def client(anonymous: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client of the API over an empty database of one backend, signed in as alice."""
    await sign_in(anonymous)
    return anonymous


@pytest.fixture(scope="session")
def embedded_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data directory for the service's own embedded PostgreSQL, shared by the tests that
    start it (initialising a server is the slow part; starting an existing one is quick).
    Whatever a failed test left running there is stopped at the end."""
    data_dir = tmp_path_factory.mktemp("notes-data")
    yield data_dir
    EmbeddedPostgres(data_dir / "postgres").destroy()


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ``NOTES_*`` variable of the machine running the tests, and no ``.env`` in sight."""
    for name in list(os.environ):
        if name.startswith("NOTES_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
