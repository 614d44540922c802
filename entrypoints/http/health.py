"""``GET /healthz``: the process is up. It touches no database, so a load balancer or a
supervisor can tell a live process from a dead one even while the database is down."""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI, Response

__all__ = ["install"]

_OK: Final = b'{"status":"ok"}'


async def healthz() -> Response:
    """200 while the process answers; no database call."""
    return Response(_OK, media_type="application/json")


def install(app: FastAPI) -> None:
    """Add ``/healthz`` (and ``/healthz/``) to ``app``."""
    options: dict[str, Any] = {
        "methods": ["GET"],
        "tags": ["operations"],
        "summary": "Liveness",
        "responses": {
            200: {
                "description": "The process is up.",
                "content": {"application/json": {"example": {"status": "ok"}}},
            }
        },
    }
    app.add_api_route("/healthz", healthz, operation_id="healthz", **options)
    app.add_api_route("/healthz/", healthz, include_in_schema=False, **options)
