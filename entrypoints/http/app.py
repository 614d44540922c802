"""The application factory: a FastAPI app over a container, with nothing built on import.

``create_app()`` makes an app whose lifespan resolves the use cases from the container (which
opens the database) on start-up and closes every resource on shutdown. Routes reach the use
cases through ``app.state``, so a request costs no container lookup.

Around every route: the request middleware (request ids, body limit, headers, the log line
and metrics; see ``middleware``), outermost, and CORS for the origins the settings name, if
any. Logins and registrations whose client hangs up are cancelled (``disconnects``), and
the lifespan runs the retention sweep every ``NOTES_SWEEP_INTERVAL`` seconds. The
operational routes are ``/healthz``, ``/readyz`` and ``/metrics``.

Serve it with ``notes serve``, or with any ASGI server:
``uvicorn --factory entrypoints.http:create_app``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from entrypoints import persistence
from entrypoints.container import Container, resolve, resolve_notes, shutdown
from entrypoints.http import accounts, clients, cors, health, metrics, notes, problems
from entrypoints.http.disconnects import CancelOnDisconnect
from entrypoints.http.metrics import Metrics
from entrypoints.http.middleware import RequestMiddleware
from entrypoints.http.schemas import Problem
from entrypoints.settings import Settings
from entrypoints.sweeping import sweep_periodically

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
* Every response carries `X-Request-ID`: the one the client sent, if it is 1 to 128 characters
  of letters, digits, `.`, `_` and `-`; otherwise one the server made. Quote it when reporting
  a problem.
"""


def _version() -> str:
    try:
        return version("notes-service")
    except PackageNotFoundError:
        return "0+unknown"


class NotesApi(FastAPI):
    """FastAPI, with every error response documented as ``application/problem+json``, and
    the middleware the settings ask for.

    Starlette builds the middleware stack once, when the server first calls the app, so the
    settings are read then, not when the app is made: the request middleware outside
    everything else, and CORS inside it for the configured origins.
    """

    def build_middleware_stack(self) -> ASGIApp:
        container: Container = self.state.container
        settings: Settings = container.settings()
        if settings.cors_origins:
            self.user_middleware.insert(
                0,
                Middleware(
                    cors.ProblemCORSMiddleware,
                    allow_origins=settings.cors_origins,
                    allow_methods=cors.METHODS,
                    allow_headers=cors.REQUEST_HEADERS,
                    expose_headers=cors.RESPONSE_HEADERS,
                    max_age=600,
                ),
            )
        return RequestMiddleware(
            super().build_middleware_stack(),
            metrics=self.state.metrics,
            max_body_size=settings.max_body_size,
            access_log=settings.access_log,
        )

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            document = super().openapi()
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    _document_shared_answers(operation)
                    _document_problems(operation.get("responses", {}))
            self.openapi_schema = document
        return self.openapi_schema


def _document_problems(responses: dict[str, Any]) -> None:
    """Error responses are documented under the media type they are sent with, whatever
    media type the route's own answers have (JSON, or plain text for ``/metrics``)."""
    problem_schema = {"$ref": "#/components/schemas/Problem"}
    for status, response in responses.items():
        if status != "default" and status[0] not in "45":
            continue
        content = response.get("content", {})
        for media in list(content):
            if media != Problem.MEDIA_TYPE and content[media].get("schema") == problem_schema:
                content[Problem.MEDIA_TYPE] = content.pop(media)


_PROBLEM_CONTENT: Final = {Problem.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_SHARED_ANSWERS: Final = {
    "400": "The body is not JSON.",
    "401": "No valid access token (`WWW-Authenticate: Bearer`).",
    "413": "The body is larger than the server's limit; nothing changed.",
}


def _document_shared_answers(operation: dict[str, Any]) -> None:
    """Document the answers that come from the app's machinery rather than from one route,
    where the route does not document them itself: 400 for a JSON body that is not JSON
    (``problems.MALFORMED_BODY``), 413 for any body over the limit (``middleware``), 401
    for an operation that needs a bearer token."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    body: dict[str, Any] = operation.get("requestBody", {}).get("content", {})
    shared = []
    if "application/json" in body:
        shared.append("400")
    if operation.get("security"):
        shared.append("401")
    if body:
        shared.append("413")
    for status in shared:
        if status not in responses:
            responses[status] = {
                "description": _SHARED_ANSWERS[status],
                "content": copy.deepcopy(_PROBLEM_CONTENT),
            }


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    container: Container = app.state.container
    sweeper: asyncio.Task[None] | None = None
    try:
        settings = container.settings()
        app.state.trusted_proxies = clients.networks(settings.trusted_proxies)
        token = settings.metrics_token
        app.state.metrics_token = token.get_secret_value() if token is not None else None
        app.state.notes = await resolve_notes(container)
        app.state.accounts = await resolve(container.accounts)
        if settings.sweep_interval > 0:
            sweep = await resolve(container.sweep)
            sweeper = asyncio.create_task(sweep_periodically(sweep, settings.sweep_interval))
        engine = await resolve(container.engine)
        app.state.readiness = persistence.readiness_check(engine)
        app.state.readiness_timeout = container.settings().readiness_timeout
        app.state.metrics.watch_pool(persistence.pool_usage(engine))
        yield
    finally:
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        app.state.metrics.watch_pool(None)
        await shutdown(container)


def create_app(container: Container | None = None) -> FastAPI:
    """The notes API over ``container`` (by default one configured from the environment).

    Building the app reads no settings and opens nothing: the database is opened when the
    lifespan starts.
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
    app.state.metrics = Metrics()
    problems.install(app)
    app.add_middleware(CancelOnDisconnect, paths=("/auth/token", "/users"))
    # The router tries routes in order: the busiest first.
    notes.install(app)
    accounts.install(app)
    health.install(app)
    metrics.install(app)
    return app
