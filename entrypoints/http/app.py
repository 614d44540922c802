"""The application factory: a FastAPI app over a container, with nothing built on import.

``create_app()`` makes an app whose lifespan resolves the use cases from the container (which
opens the database) on start-up and closes every resource on shutdown. Routes reach the use
cases through ``app.state``, so a request costs no container lookup.

Serve it with ``notes serve``, or with any ASGI server:
``uvicorn --factory entrypoints.http:create_app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI

from entrypoints.container import Container, resolve, resolve_notes, shutdown
from entrypoints.http import accounts, health, notes, problems
from entrypoints.http.schemas import Problem

__all__ = ["NotesApi", "create_app"]

DESCRIPTION = """\
Notes with a title, a description and tags, kept in PostgreSQL, SQLite or memory.

* Register with `POST /users/`, log in with `POST /auth/token` (the OAuth2 password grant),
  and send the access token as `Authorization: Bearer …` to every `/notes` endpoint. Each
  user sees only their own notes.
* Every path answers with and without the trailing slash.
* A note's `ETag` is its version; send it back in `If-Match` to make a write conditional.
* Every error is `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`,
  and `errors` (each with `loc` and `msg`) when fields are invalid.
"""


def _version() -> str:
    try:
        return version("notes-service")
    except PackageNotFoundError:
        return "0+unknown"


class NotesApi(FastAPI):
    """FastAPI, with every error response documented as ``application/problem+json``."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            document = super().openapi()
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    _document_problems(operation.get("responses", {}))
            self.openapi_schema = document
        return self.openapi_schema


def _document_problems(responses: dict[str, Any]) -> None:
    """Error responses are documented under the media type they are sent with."""
    for status, response in responses.items():
        content = response.get("content", {})
        if (status == "default" or status[0] in "45") and "application/json" in content:
            content[Problem.MEDIA_TYPE] = content.pop("application/json")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    container: Container = app.state.container
    try:
        app.state.notes = await resolve_notes(container)
        app.state.accounts = await resolve(container.accounts)
        yield
    finally:
        await shutdown(container)


def create_app(container: Container | None = None) -> FastAPI:
    """The notes API over ``container`` (by default one configured from the environment).

    Building the app opens nothing: the database is opened when the lifespan starts.
    """
    app = NotesApi(
        title="notes-service",
        version=_version(),
        summary="An asynchronous notes API.",
        description=DESCRIPTION,
        lifespan=_lifespan,
        redirect_slashes=False,
        openapi_tags=[
            {"name": "notes", "description": "Create, read, change and delete your notes."},
            {"name": "accounts", "description": "Register, log in, refresh and log out."},
            {"name": "operations", "description": "For supervisors and load balancers."},
        ],
        responses={
            500: {"model": Problem, "description": "An unexpected failure; nothing is exposed."}
        },
    )
    app.state.container = container if container is not None else Container()
    problems.install(app)
    accounts.install(app)
    notes.install(app)
    health.install(app)
    return app
