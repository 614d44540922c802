"""The application factory: a FastAPI app over a container, with nothing built on import.

``create_app()`` makes an app over a container (``app.state.container``, the only thing on
the app's state) whose lifespan opens the database on start-up and closes every resource on
shutdown. Routes get the use cases and the caller through FastAPI dependencies that ask the
container (see ``dependencies``).

Around every route: the request middleware (request ids, body limit, headers, the log line
and metrics; see ``middleware``), outermost, and CORS for the origins the settings name, if
any. Logins and registrations whose client hangs up are cancelled (``disconnects``), and
the lifespan runs the retention sweep every ``NOTES_SWEEP_INTERVAL`` seconds and the
webhook delivery worker (unless ``NOTES_WEBHOOKS_WORKER`` is false). The
operational routes are ``/healthz``, ``/readyz`` and ``/metrics``.

Serve it with ``notes serve``, or with any ASGI server:
``uvicorn --factory entrypoints.http:create_app``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from application import NotAuthenticated
from entrypoints.container import Container, resolve, resolve_notes, shutdown
from entrypoints.http import (
    accounts,
    cors,
    docs,
    feed,
    health,
    metrics,
    notes,
    problems,
    revisions,
    sharing,
    tokens,
    webhooks,
)
from entrypoints.http.disconnects import CancelOnDisconnect
from entrypoints.http.middleware import RequestMiddleware
from entrypoints.http.schemas import Problem
from entrypoints.settings import Settings
from entrypoints.sweeping import sweep_periodically
from entrypoints.webhook_worker import deliver_continuously

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
            metrics=container.metrics,
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
    "400": (problems.MALFORMED_BODY, "The body is not JSON."),
    "401": (problems.PROBLEMS[NotAuthenticated], "No valid access token."),
    "413": (problems.TOO_LARGE, "The body is larger than the server's limit; nothing changed."),
}


def _document_shared_answers(operation: dict[str, Any]) -> None:
    """Document the answers that come from the app's machinery rather than from one route:
    400 for a JSON body that is not JSON (``problems.MALFORMED_BODY``), 413 for any body over
    the limit (``middleware``), 401 for an operation that needs a bearer token. Where the
    route documents the same status for its own reasons, the descriptions are joined."""
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
        kind, description = _SHARED_ANSWERS[status]
        answer = responses.get(status)
        if answer is None:
            answer = responses[status] = {
                "description": description,
                "content": copy.deepcopy(_PROBLEM_CONTENT),
            }
            if kind.headers:
                answer["headers"] = problems.header_docs(kind.headers)
        elif description not in answer["description"]:
            answer["description"] = f"{answer['description']} {description}"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open what the routes will ask the container for, so that the first request finds it
    ready (and a database that cannot be opened stops the start-up); close it all after.

    Once started, every object alive is frozen out of the garbage collector's reach
    (``gc.freeze``): the modules, the app and its validators, the pool are never garbage,
    and a full collection would otherwise walk all of them, stalling every request in
    flight. Requests that outlive two young collections under load fill the oldest
    generation quickly, so full collections are frequent; frozen, each walks only what
    requests left behind. Shutdown unfreezes them. (No collection before freezing: it would
    cost every start a walk of the whole heap, for the little garbage start-up leaves.)"""
    container: Container = app.state.container
    sweeper: asyncio.Task[None] | None = None
    deliverer: asyncio.Task[None] | None = None
    try:
        settings = container.settings()
        await resolve_notes(container)
        await resolve(container.accounts)
        await resolve(container.readiness)
        container.metrics().watch_pool(await resolve(container.pool_usage))
        if settings.sweep_interval > 0:
            sweep = await resolve(container.sweep)
            sweeper = asyncio.create_task(sweep_periodically(sweep, settings.sweep_interval))
        await resolve(container.webhooks)
        if settings.webhooks_worker:
            deliver = await resolve(container.deliver_webhooks)
            deliverer = asyncio.create_task(
                deliver_continuously(deliver, settings.webhooks_poll_interval)
            )
        gc.freeze()
        yield
    finally:
        gc.unfreeze()
        for task in (sweeper, deliverer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        container.metrics().watch_pool(None)
        await shutdown(container)


def create_app(container: Container | None = None, *, shortcuts: bool = True) -> FastAPI:
    """The notes API over ``container`` (by default one configured from the environment);
    without ``shortcuts``, FastAPI's own handler answers every request (see ``routing``).

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
        # Served by ``docs`` from assets the service holds, not from a CDN.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "notes", "description": "Create, read, change and delete your notes."},
            {"name": "sharing", "description": "Share notes with users, and publish links."},
            {"name": "accounts", "description": "Register, log in, refresh and log out."},
            {"name": "webhooks", "description": "Have your notes' changes pushed to you."},
            {"name": "operations", "description": "For supervisors and load balancers."},
        ],
        responses={
            500: {"model": Problem, "description": "An unexpected failure; nothing is exposed."}
        },
    )
    app.state.container = container if container is not None else Container()
    problems.install(app)
    app.add_middleware(CancelOnDisconnect, paths=("/auth/token", "/users"))
    # The router tries routes in order: the busiest first.
    # Before the notes: /notes/changes is not a note's id.
    feed.install(app)
    notes.install(app, shortcuts=shortcuts)
    revisions.install(app)
    sharing.install(app)
    accounts.install(app)
    tokens.install(app)
    webhooks.install(app)
    health.install(app)
    metrics.install(app)
    docs.install(app)
    return app
