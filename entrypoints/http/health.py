"""``GET /healthz`` and ``GET /readyz``: for supervisors and load balancers.

``/healthz``: the process is up. It touches no database, so a supervisor can tell a live
process from a dead one even while the database is down (and does not restart a healthy
process for a database outage).

``/readyz``: the process can serve, because its database answers a round trip within
``readiness_timeout`` seconds, with a schema not behind the service's migrations; otherwise
503 (``schema-outdated`` for the schema) (problem+json, ``Retry-After``), so a load
balancer sends requests elsewhere until it answers again. The in-memory backend is always
ready.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final, Literal

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel

from application import SchemaOutdated, StorageUnavailable
from entrypoints.container import resolve
from entrypoints.http.context import request_context
from entrypoints.http.dependencies import ContainerDep
from entrypoints.http.problems import documented, problem_response
from entrypoints.http.routing import add_route

__all__ = ["Health", "Readiness", "Ready", "install"]

Readiness = Callable[[], Awaitable[None]]
"""A check that returns when the database answers and raises ``StorageUnavailable`` when it
does not: the container's ``readiness``."""


class Health(BaseModel):
    """The process is up."""

    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    """The database answers."""

    status: Literal["ready"] = "ready"


_OK: Final = Health().model_dump_json().encode()
_READY: Final = Ready().model_dump_json().encode()


async def healthz() -> Response:
    """200 while the process answers; no database call."""
    return Response(_OK, media_type="application/json")


async def readyz(request: Request, container: ContainerDep) -> Response:
    """200 when the database answers within the readiness timeout; else 503."""
    check: Readiness = await resolve(container.readiness)
    timeout = container.settings().readiness_timeout
    try:
        async with asyncio.timeout(timeout):
            await check()
    except (StorageUnavailable, TimeoutError) as error:
        if isinstance(error, SchemaOutdated):
            failure: StorageUnavailable = error
        else:
            failure = StorageUnavailable(
                f"the database did not answer within {timeout} s",
                reason=error.reason if isinstance(error, StorageUnavailable) else "",
            )
            failure.__cause__ = error
        context = request_context(request.scope)
        if context is not None:
            context.failure = failure
        return problem_response(failure)
    return Response(_READY, media_type="application/json")


def install(app: FastAPI) -> None:
    """Add ``/healthz`` and ``/readyz`` (each with and without the final slash) to ``app``."""
    add_route(
        app,
        "/healthz",
        healthz,
        methods=["GET"],
        tags=["operations"],
        summary="Liveness",
        response_model=Health,
        responses={200: {"description": "The process is up."}},
    )
    add_route(
        app,
        "/readyz",
        readyz,
        methods=["GET"],
        tags=["operations"],
        summary="Readiness",
        response_model=Ready,
        responses={
            **documented([StorageUnavailable]),
            200: {"description": "The database answers: the process can serve."},
        },
    )
