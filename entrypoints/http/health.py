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
from typing import Any, Final

from fastapi import FastAPI, Request, Response

from application import SchemaOutdated, StorageUnavailable
from entrypoints.http.context import request_context
from entrypoints.http.fastpath import FastRoute
from entrypoints.http.problems import problem_response
from entrypoints.http.schemas import Problem

__all__ = ["Readiness", "install"]

Readiness = Callable[[], Awaitable[None]]
"""A check that returns when the database answers and raises ``StorageUnavailable`` when it
does not; the lifespan puts one on ``app.state.readiness``."""

_OK: Final = b'{"status":"ok"}'
_READY: Final = b'{"status":"ready"}'


async def healthz() -> Response:
    """200 while the process answers; no database call."""
    return Response(_OK, media_type="application/json")


async def readyz(request: Request) -> Response:
    """200 when the database answers within the readiness timeout; else 503."""
    check: Readiness = request.app.state.readiness
    timeout: float = request.app.state.readiness_timeout
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


def _add(app: FastAPI, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
    """``path``, answering with and without a trailing slash."""
    app.router.add_api_route(
        path, endpoint, operation_id=endpoint.__name__, route_class_override=FastRoute, **options
    )


def install(app: FastAPI) -> None:
    """Add ``/healthz`` and ``/readyz`` (each with and without the final slash) to ``app``."""
    _add(
        app,
        "/healthz",
        healthz,
        methods=["GET"],
        tags=["operations"],
        summary="Liveness",
        responses={
            200: {
                "description": "The process is up.",
                "content": {"application/json": {"example": {"status": "ok"}}},
            }
        },
    )
    _add(
        app,
        "/readyz",
        readyz,
        methods=["GET"],
        tags=["operations"],
        summary="Readiness",
        responses={
            200: {
                "description": "The database answers: the process can serve.",
                "content": {"application/json": {"example": {"status": "ready"}}},
            },
            503: {
                "model": Problem,
                "description": "The database does not answer in time (`Retry-After`).",
            },
        },
    )
