"""One wiring path: importing the service builds nothing, and routes reach the use cases
only through FastAPI dependencies that ask the container."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from dependency_injector import providers

from entrypoints.http import create_app
from tests.api.client import container_over, serving, sign_in

_IMPORT_EVERYTHING = textwrap.dedent(
    """
    import gc, importlib, pkgutil, sys
    import fastapi, starlette.applications, sqlalchemy.ext.asyncio, sqlalchemy.engine
    import dependency_injector.containers, pydantic_settings, prometheus_client

    names = []
    for package in ("domain", "application", "adapters", "entrypoints"):
        module = importlib.import_module(package)
        names.append(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            importlib.import_module(info.name)
            names.append(info.name)
    assert "entrypoints.http.notes" in names and "adapters.sqlalchemy.engine" in names

    from entrypoints.container import Container
    from entrypoints.http.metrics import Metrics

    built = (
        starlette.applications.Starlette,
        sqlalchemy.ext.asyncio.AsyncEngine,
        sqlalchemy.engine.Engine,
        pydantic_settings.BaseSettings,
        Container,
        Metrics,
        prometheus_client.CollectorRegistry,
    )
    found = [type(o).__name__ for o in gc.get_objects() if isinstance(o, built)]
    # prometheus-client's own default registry is made when it is imported.
    found.remove("CollectorRegistry")
    print(len(names), found)
    """
)


def test_importing_every_module_builds_no_app_engine_settings_or_registry() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EVERYTHING], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    count, found = done.stdout.split(" ", 1)
    assert int(count) > 30
    assert found.strip() == "[]"


async def test_routes_get_the_use_cases_from_the_container_at_request_time() -> None:
    """Overriding a provider while the app runs changes what the next request gets: nothing
    was copied out of the container at start-up."""
    container = container_over()
    app = create_app(container)
    async with serving(app) as client:
        await sign_in(client)
        assert (await client.post("/notes/", json={"title": "kept"})).status_code == 201
        original = await container.notes()
        with container.notes.override(providers.Object(_Failing(original))):
            answer = await client.get("/notes/")
        assert answer.status_code == 503
        assert [n["title"] for n in (await client.get("/notes/")).json()] == ["kept"]
    for copied in ("notes", "accounts", "readiness", "metrics", "cursors"):
        assert not hasattr(app.state, copied)


class _Failing:
    """Notes use cases whose listing finds the database unreachable."""

    def __init__(self, wrapped: object) -> None:
        self._wrapped = wrapped

    def __getattr__(self, name: str) -> object:
        return getattr(self._wrapped, name)

    async def find_notes(self, *_: object, **__: object) -> None:
        from application import StorageUnavailable

        raise StorageUnavailable("down")
