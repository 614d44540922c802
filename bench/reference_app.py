"""The bare reference of ``bench.http_load``: Starlette and an asyncpg pool, nothing else.

The same routes as the service's hot paths (a ``PATCH`` of the title only), the same SQL
and server settings, the same JSON: no validation layer, no unit of work, no middleware, no
logging. It still checks the bearer token the cheapest honest way (the JWT's HMAC-SHA256 and
its expiry, with the standard library), so the comparison does not reward skipping
authentication. Run it under the same uvicorn settings:

    REFERENCE_DATABASE_URL=postgresql://… REFERENCE_SECRET=… \\
        uvicorn bench.reference_app:create_app --factory --no-access-log
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_COLUMNS = "id, owner_id, title, description, tags, created_date, updated_date, version"
# Constant SQL: the f-strings only splice in the constant column list.
_GET = f"SELECT {_COLUMNS} FROM notes WHERE id = $1 AND owner_id = $2"  # noqa: S608
_LIST = (
    f"SELECT {_COLUMNS}, 0.0 AS score FROM notes WHERE owner_id = $1 "  # noqa: S608
    "ORDER BY created_date DESC, id DESC LIMIT $2"
)
_SEARCH = (
    f"SELECT {_COLUMNS}, ts_rank(search_vector, to_tsquery('simple'::regconfig, $2)) AS score "  # noqa: S608
    "FROM notes WHERE owner_id = $1 AND search_vector @@ to_tsquery('simple'::regconfig, $2) "
    "ORDER BY created_date DESC, id DESC LIMIT $3"
)
_INSERT = (
    "INSERT INTO notes (search_title, search_body, id, owner_id, title, description, tags, "
    "created_date, updated_date, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)"
)
_PATCH_TITLE = (
    "UPDATE notes SET title = $3, search_title = $4, updated_date = $5, "  # noqa: S608
    f"version = version + 1 WHERE id = $1 AND owner_id = $2 RETURNING {_COLUMNS}"
)
_WORD = re.compile(r"[^\W_]+")


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _caller(request: Request, secret: bytes) -> uuid.UUID | None:
    """The ``sub`` of a valid HS256 access token in ``Authorization``, else None."""
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        return None
    signed, _, signature = header[7:].rpartition(".")
    expected = hmac.new(secret, signed.encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _b64(signature)):
            return None
        claims = json.loads(_b64(signed.partition(".")[2]))
        if claims["exp"] <= time.time():
            return None
        return uuid.UUID(claims["sub"])
    except (ValueError, KeyError, TypeError):
        return None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _note(row: Any) -> dict[str, Any]:
    return {
        "id": str(row[0]),
        "title": row[2],
        "description": row[3],
        "tags": list(row[4]),
        "created_date": _stamp(row[5]),
        "updated_date": _stamp(row[6]),
        "version": row[7],
    }


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(body, separators=(",", ":")).encode()
    return Response(text, status, headers, media_type="application/json")


def _searchable(text: str) -> str:
    return " ".join("x" + word.encode().hex() for word in _WORD.findall(text.lower()))


def create_app() -> Starlette:
    secret = os.environ["REFERENCE_SECRET"].encode()
    dsn = os.environ["REFERENCE_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    pool: asyncpg.Pool | None = None
    unauthorized = Response(status_code=401)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        # The server settings the service's connections have: each statement is planned for
        # its parameters, without which a search's plan changes from run to run.
        pool = await asyncpg.create_pool(
            dsn, min_size=20, max_size=20, server_settings={"plan_cache_mode": "force_custom_plan"}
        )
        yield
        await pool.close()

    async def get_note(request: Request) -> Response:
        caller = _caller(request, secret)
        if caller is None:
            return unauthorized
        try:
            note_id = uuid.UUID(request.path_params["note_id"])
        except ValueError:
            return Response(status_code=422)
        assert pool is not None
        row = await pool.fetchrow(_GET, note_id, caller)
        if row is None:
            return Response(status_code=404)
        return _json(_note(row), headers={"ETag": f'"{row[7]}"'})

    async def patch_note(request: Request) -> Response:
        caller = _caller(request, secret)
        if caller is None:
            return unauthorized
        try:
            note_id = uuid.UUID(request.path_params["note_id"])
        except ValueError:
            return Response(status_code=422)
        title = (await request.json())["title"].strip()
        assert pool is not None
        row = await pool.fetchrow(
            _PATCH_TITLE, note_id, caller, title, _searchable(title), datetime.now(UTC)
        )
        if row is None:
            return Response(status_code=404)
        return _json(_note(row), headers={"ETag": f'"{row[7]}"'})

    async def notes(request: Request) -> Response:
        caller = _caller(request, secret)
        if caller is None:
            return unauthorized
        assert pool is not None
        if request.method == "POST":
            body = await request.json()
            title, description = body["title"].strip(), body.get("description", "")
            tags = list(body.get("tags", []))
            now = datetime.now(UTC)
            note_id = uuid.uuid4()
            await pool.execute(
                _INSERT, _searchable(title), _searchable(description), note_id, caller,
                title, description, tags, now, now,
            )  # fmt: skip
            created = {
                "id": str(note_id),
                "title": title,
                "description": description,
                "tags": tags,
                "created_date": _stamp(now),
                "updated_date": _stamp(now),
                "version": 1,
            }
            return _json(created, 201, {"Location": f"/notes/{note_id}", "ETag": '"1"'})
        limit = int(request.query_params.get("limit", "100"))
        q = request.query_params.get("q")
        if q:
            query = " & ".join(f"({'x' + w.encode().hex()})" for w in _WORD.findall(q.lower()))
            rows = await pool.fetch(_SEARCH, caller, query, limit + 1)
        else:
            rows = await pool.fetch(_LIST, caller, limit + 1)
        return _json([_note(row) for row in rows[:limit]])

    return Starlette(
        routes=[
            Route("/notes/", notes, methods=["GET", "POST"]),
            Route("/notes/{note_id}", get_note, methods=["GET"]),
            Route("/notes/{note_id}", patch_note, methods=["PATCH"]),
        ],
        lifespan=lifespan,
    )
