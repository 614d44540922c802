"""The ``/notes`` routes: HTTP in, a use case, HTTP out.

Every route answers at its path with and without the trailing slash (see ``routing``), and
acts for the caller its bearer token names: another user's note is not found. Errors are
not handled here: the use cases raise, and ``problems`` answers. Responses are
serialised once, straight from the domain object, rather than validated again on the way
out.

The busiest routes have shortcuts (see ``routing``): a well-formed common request is
answered by calling the endpoint with the values FastAPI would give it, without FastAPI's
solving of parameters and dependencies; anything else declines to FastAPI's handler.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Annotated, Final, get_args
from uuid import UUID

from fastapi import Body, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from fastapi.security.utils import get_authorization_scheme_param
from starlette.exceptions import HTTPException

from application import (
    Conflict,
    NoteNotFound,
    NoteQuery,
    NotPermitted,
    Order,
    PreconditionFailed,
    QuotaExceeded,
    StorageUnavailable,
    VersionRequired,
)
from application.idempotency import IdempotencyKeyReused
from application.notes import MAX_IMPORT
from application.personal_tokens import InsufficientScope
from domain import InvalidNote, Note, RuleViolation
from domain.search import MAX_QUERY_LENGTH
from entrypoints.http.cursors import BadCursor, listing_digest
from entrypoints.http.dependencies import Caller, NotesReaderDep, NotesWriterDep, caller_for
from entrypoints.http.etags import (
    UNMATCHABLE_VERSION,
    MalformedPrecondition,
    etag,
    if_none_match_matches,
    parse_if_match,
)
from entrypoints.http.routing import Routes
from entrypoints.http.schemas import (
    NoteCreate,
    NotePatch,
    NotePublic,
    NoteReplace,
    note_json,
    notes_json,
)

__all__ = ["MAX_LIMIT", "MAX_SKIP", "IfMatch", "NoteId", "if_version", "install"]

MAX_LIMIT: Final = 500
MAX_SKIP: Final = 2**31 - 1
"""The largest offset taken: every backend takes it (the PostgreSQL adapter binds it as a
32-bit integer), and a JSON number holds it exactly."""
MAX_CURSOR: Final = 1000

_JSON = "application/json"
_NDJSON = "application/x-ndjson"
_NO_TAGS: Final[list[str]] = []
_NO_STORE: Final = {"Cache-Control": "no-store"}
_NO_STORE_HEADER: Final = {
    "Cache-Control": {"description": "`no-store`.", "schema": {"type": "string"}}
}
_ETAG_HEADER = {
    "ETag": {
        "description": 'The note\'s version, as a strong tag: `"3"`.',
        "schema": {"type": "string"},
    },
    **_NO_STORE_HEADER,
}

_READ: Final = (RequestValidationError, StorageUnavailable, InsufficientScope)
"""Errors every route may raise: a parameter breaks a rule, the database cannot be reached."""
_WRITE: Final = (
    *_READ,
    InvalidNote,
    RuleViolation,
    NoteNotFound,
    NotPermitted,
    MalformedPrecondition,
    PreconditionFailed,
    VersionRequired,
    Conflict,
    QuotaExceeded,
)
"""Errors a change to an existing note may raise."""


_routes = Routes("notes")
install = _routes.install
_route = _routes.route


NoteId = Annotated[UUID, Path(description="The note's id, a UUID.")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        description="A key of the client's choosing (1 to 255 characters): a retry with the "
        "same key and body within 24 hours gets the first answer again and creates nothing; "
        "the same key with another body is a 409.",
        examples=["4f1c2d3e-retry-safe"],
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        description='Make the write conditional on the note\'s version: `"3"` from its `ETag`, '
        'a list (`"3", "4"`: any of them), or `*` (any existing note). A stale version gets '
        "412 with the current `ETag` and changes nothing; a value that is not a list of "
        "entity tags is a 400.",
        examples=['"3"'],
    ),
]


def _note_response(note: Note, owner: str, status_code: int = 200, **headers: str) -> Response:
    return Response(
        note_json(note, owner),
        status_code=status_code,
        media_type=_JSON,
        headers={"ETag": etag(note.version), **_NO_STORE, **headers},
    )


async def if_version(header: str | None, caller: Caller, note_id: UUID) -> int | None:
    """The version a write is made conditional on by its ``If-Match`` ``header``: ``None``
    for an unconditional one. A list of several versions, and ``*`` where every write must
    name a version, cost a read of the note's current version first: the write is then
    conditional on that version (a 412 if it changed meanwhile)."""
    asked = parse_if_match(header)
    if asked is None or (asked.any and not caller.container.settings().require_if_match):
        return None
    if len(asked.versions) == 1:
        return next(iter(asked.versions))
    if not asked.any and not asked.versions:
        return UNMATCHABLE_VERSION
    current = (await caller.notes.get_note(caller.id, note_id)).version
    return current if asked.any or current in asked.versions else min(asked.versions)


# Shortcuts. Each answers only a request whose every parameter it checks as FastAPI would
# and finds valid, by calling the endpoint with the values FastAPI would pass; otherwise it
# returns None having done nothing, and FastAPI's handler answers (every error included).

_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SMALL_NUMBER: Final = re.compile(r"[0-9]{1,3}")
_ORDERS: Final[dict[str, Order]] = {order: order for order in get_args(Order)}
_LIST_PARAMETERS: Final = frozenset({"limit", "q", "order", "tag", "cursor"})


def _bearer_token(request: Request) -> str | None:
    """The token of the request's one ``Authorization: Bearer`` header, read as FastAPI's
    OAuth2 scheme reads it; None unless there is exactly one such header with a token."""
    values = request.headers.getlist("authorization")
    if len(values) != 1:
        return None
    scheme, token = get_authorization_scheme_param(values[0])
    return token if scheme.lower() == "bearer" and token else None


async def _get_note_shortcut(request: Request) -> Response | None:
    """``GET /notes/{note_id}`` with a canonical UUID, a bearer token and at most one
    ``If-None-Match``."""
    note_id = request.path_params.get("note_id")
    if not isinstance(note_id, str) or _CANONICAL_UUID.fullmatch(note_id) is None:
        return None
    if_none_match = request.headers.getlist("if-none-match")
    token = _bearer_token(request)
    if len(if_none_match) > 1 or token is None:
        return None
    caller = await caller_for(request, token, "read")
    return await get_note(UUID(note_id), caller, if_none_match[0] if if_none_match else None)


async def _create_note_shortcut(request: Request) -> Response | None:
    """``POST /notes/`` with a valid ``application/json`` body, a bearer token and at most
    one ``Idempotency-Key``."""
    keys = request.headers.getlist("idempotency-key")
    token = _bearer_token(request)
    if request.headers.getlist("content-type") != [_JSON] or len(keys) > 1 or token is None:
        return None
    try:
        raw = await request.body()
    except HTTPException:
        raise  # FastAPI's handler raises it again too.
    except Exception:  # noqa: BLE001 - FastAPI's handler answers it, reading the body anew
        return None
    try:
        body = NoteCreate.model_validate(json.loads(raw))
    except Exception:  # noqa: BLE001 - not JSON, or not a valid note: FastAPI answers
        return None
    caller = await caller_for(request, token, "write")
    return await create_note(body, caller, request, keys[0] if keys else None)


async def _list_notes_shortcut(request: Request) -> Response | None:
    """``GET /notes/`` with a bearer token and only ``limit``, ``q``, ``order``, ``cursor``
    (each at most once) and ``tag``, every one non-empty and within its bounds."""
    limit, cursor, q = 100, None, None
    order: Order = "created_desc"
    tags: list[str] = []
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        if name not in _LIST_PARAMETERS or not value:
            return None
        if name == "tag":
            tags.append(value)
            continue
        if name in seen:
            return None
        seen.add(name)
        if name == "limit":
            if _SMALL_NUMBER.fullmatch(value) is None or not 1 <= int(value) <= MAX_LIMIT:
                return None
            limit = int(value)
        elif name == "q":
            if len(value) > MAX_QUERY_LENGTH:
                return None
            q = value
        elif name == "order":
            if value not in _ORDERS:
                return None
            order = _ORDERS[value]
        else:
            if len(value) > MAX_CURSOR:
                return None
            cursor = value
    token = _bearer_token(request)
    if token is None:
        return None
    caller = await caller_for(request, token, "read")
    return await list_notes(request, caller, limit, cursor, 0, q, tags, order)


@_route(
    "POST",
    "/notes/",
    status_code=201,
    response_model=NotePublic,
    summary="Create a note",
    shortcut=_create_note_shortcut,
    errors=(*_READ, InvalidNote, RuleViolation, IdempotencyKeyReused, Conflict, QuotaExceeded),
    responses={
        201: {
            "description": "The note, created at version 1.",
            "headers": {
                "Location": {
                    "description": "The note's URL: `/notes/{id}`.",
                    "schema": {"type": "string"},
                },
                **_ETAG_HEADER,
            },
        }
    },
)
async def create_note(
    body: NoteCreate,
    caller: NotesWriterDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create a note from a title, a description and tags."""
    note = await caller.notes.create_note(
        caller.id, body.to_draft(), idempotency_key=idempotency_key
    )
    location = f"{request.scope.get('root_path', '')}/notes/{note.id}"
    return _note_response(note, await caller.username(), 201, Location=location)


@_route(
    "POST",
    "/notes/import",
    status_code=201,
    response_model=list[NotePublic],
    summary="Import notes, all or none",
    errors=(*_READ, InvalidNote, RuleViolation, IdempotencyKeyReused, Conflict, QuotaExceeded),
    responses={
        201: {"description": "The created notes, in the order sent.", "headers": _NO_STORE_HEADER}
    },
)
async def import_notes(
    body: Annotated[list[NoteCreate], Body(min_length=1, max_length=MAX_IMPORT)],
    caller: NotesWriterDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create up to 1,000 notes in one transaction: if one breaks a rule (the answer names
    its index and field) or the database fails, none is created."""
    created = await caller.notes.import_notes(
        caller.id, [note.to_draft() for note in body], idempotency_key=idempotency_key
    )
    owners = await caller.owners(())
    return Response(
        notes_json(created, owners), status_code=201, media_type=_JSON, headers=_NO_STORE
    )


@_route(
    "GET",
    "/notes/export",
    summary="Export every note",
    response_class=StreamingResponse,
    errors=_READ,
    responses={
        200: {
            "description": "Every note, oldest first, one JSON object a line (NDJSON): each "
            "line a `NotePublic`.",
            "content": {
                _NDJSON: {
                    "schema": {"type": "string", "format": "binary"},
                    # Each line's schema; OpenAPI 3.2 names this ``itemSchema``.
                    "x-item-schema": {"$ref": "#/components/schemas/NotePublic"},
                }
            },
            "headers": _NO_STORE_HEADER,
        },
    },
)
async def export_notes(caller: NotesReaderDep) -> StreamingResponse:
    """Every note of the caller as NDJSON, streamed: the notes are read a page at a time as
    the client reads, so the server's memory does not grow with their number."""
    pages = caller.notes.export_notes(caller.id)
    owner = await caller.username()
    # Read the first page before answering, so that an unreachable database is a 503 rather
    # than a 200 whose body breaks off.
    first: list[Note] = await anext(pages, [])

    async def lines() -> AsyncIterator[bytes]:
        page = first
        while page:
            yield b"".join(note_json(note, owner) + b"\n" for note in page)
            page = await anext(pages, [])

    return StreamingResponse(lines(), media_type=_NDJSON, headers=_NO_STORE)


@_route(
    "GET",
    "/notes/",
    response_model=list[NotePublic],
    summary="List, filter and search notes",
    shortcut=_list_notes_shortcut,
    errors=(*_READ, BadCursor, RuleViolation),
    responses={
        200: {
            "description": "A page of notes.",
            "headers": {
                "Link": {
                    "description": 'The next page: `<URL>; rel="next"`; absent on the last page.',
                    "schema": {"type": "string"},
                },
                **_NO_STORE_HEADER,
            },
        },
    },
)
async def list_notes(
    request: Request,
    caller: NotesReaderDep,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"At most this many notes, 1 to {MAX_LIMIT}.")
    ] = 100,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR,
            description="Where the page starts: from the previous page's "
            '`Link: <…>; rel="next"`. Opaque; valid only with the same `order`, `tag` and `q`.',
        ),
    ] = None,
    skip: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_SKIP,
            description=f"Leave out this many notes first, 0 to {MAX_SKIP} (offset paging, "
            "for tutorial clients; not with `cursor`). Prefer the cursor: a deep page costs "
            "what the first does, and notes created or deleted meanwhile do not shift it.",
        ),
    ] = 0,
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_LENGTH,
            description="Full-text search over title and description: every word must occur "
            'as a whole word, any case; `"a phrase"`, `-excluded`, `prefix*`.',
            examples=['sourdough -"rye bread" milk*'],
        ),
    ] = None,
    tag: Annotated[
        list[str],
        Query(description="Repeatable: a note must carry every tag given.", examples=[["home"]]),
    ] = _NO_TAGS,
    order: Annotated[
        Order,
        Query(
            description="`created_desc`, `created_asc`, `updated_desc`, or `relevance` (with `q`)."
        ),
    ] = "created_desc",
) -> Response:
    """The caller's notes: filtered by tags and search, in the order asked for, a page at a
    time. The body is a JSON array; the next page's URL is in `Link`."""
    listing = listing_digest(order, tag, q)
    codec = caller.container.cursors()
    after = codec.decode(cursor, listing) if cursor is not None else None
    page = await caller.notes.find_notes(
        caller.id, NoteQuery(tags=tag, text=q, order=order, limit=limit, skip=skip, after=after)
    )
    headers = dict(_NO_STORE)
    if page.next is not None:
        following = request.url.remove_query_params(["skip", "cursor"]).include_query_params(
            cursor=codec.encode(page.next, listing)
        )
        headers["Link"] = f'<{following}>; rel="next"'
    owners = await caller.owners(())
    return Response(notes_json(page.notes, owners), media_type=_JSON, headers=headers)


@_route(
    "GET",
    "/notes/{note_id}",
    response_model=NotePublic,
    summary="Read a note",
    shortcut=_get_note_shortcut,
    errors=(*_READ, NoteNotFound),
    responses={
        200: {"description": "The note.", "headers": _ETAG_HEADER},
        304: {"description": "`If-None-Match` names the current version: no body."},
    },
)
async def get_note(
    note_id: NoteId,
    caller: NotesReaderDep,
    if_none_match: Annotated[
        str | None,
        Header(description="The `ETag` of a copy the client holds; if current, 304 answers."),
    ] = None,
) -> Response:
    """One note of the caller's, or shared with the caller, with its version as the `ETag`."""
    note = await caller.notes.get_note(caller.id, note_id)
    if if_none_match_matches(if_none_match, note.version):
        return Response(status_code=304, headers={"ETag": etag(note.version), **_NO_STORE})
    return _note_response(note, (await caller.owners([note]))[note.owner_id])


@_route(
    "PUT",
    "/notes/{note_id}",
    response_model=NotePublic,
    summary="Replace a note",
    errors=_WRITE,
    responses={200: {"description": "The note.", "headers": _ETAG_HEADER}},
)
async def replace_note(
    note_id: NoteId,
    body: NoteReplace,
    caller: NotesWriterDep,
    if_match: IfMatch = None,
) -> Response:
    """Replace the note's title, description and tags (every one: a field left out is
    emptied); its version grows by one."""
    version = await if_version(if_match, caller, note_id)
    note = await caller.notes.replace_note(caller.id, note_id, body.to_draft(), if_version=version)
    return _note_response(note, (await caller.owners([note]))[note.owner_id])


@_route(
    "PATCH",
    "/notes/{note_id}",
    response_model=NotePublic,
    summary="Change some of a note's fields",
    errors=_WRITE,
    responses={200: {"description": "The note.", "headers": _ETAG_HEADER}},
)
async def patch_note(
    note_id: NoteId,
    body: NotePatch,
    caller: NotesWriterDep,
    if_match: IfMatch = None,
) -> Response:
    """Change only the fields sent; its version grows by one."""
    version = await if_version(if_match, caller, note_id)
    note = await caller.notes.patch_note(caller.id, note_id, body.to_changes(), if_version=version)
    return _note_response(note, (await caller.owners([note]))[note.owner_id])


@_route(
    "DELETE",
    "/notes/{note_id}",
    status_code=204,
    summary="Move a note to the trash",
    errors=_WRITE,
)
async def delete_note(
    note_id: NoteId,
    caller: NotesWriterDep,
    if_match: IfMatch = None,
) -> Response:
    """Move the note to the trash (`/trash/`), from where it can be restored."""
    version = await if_version(if_match, caller, note_id)
    await caller.notes.delete_note(caller.id, note_id, if_version=version)
    return Response(status_code=204)
