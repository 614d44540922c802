"""The ``/notes`` routes: HTTP in, a use case, HTTP out.

Every route answers at its path with and without the trailing slash (see ``routing``), and
acts for the caller its bearer token names: another user's note is not found. Errors are
not handled here: the use cases raise, and ``problems`` answers. Responses are
serialised once, straight from the domain object, rather than validated again on the way
out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import Body, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from application import NoteQuery, Order
from application.notes import MAX_IMPORT
from domain import Note
from domain.search import MAX_QUERY_LENGTH
from entrypoints.http.cursors import CursorCodec, listing_digest
from entrypoints.http.dependencies import CallerDep, NotesDep
from entrypoints.http.etags import etag, if_match_version, if_none_match_matches
from entrypoints.http.routing import Routes
from entrypoints.http.schemas import (
    NoteCreate,
    NotePatch,
    NotePublic,
    NoteReplace,
    Problem,
    note_json,
    notes_json,
)

__all__ = ["MAX_LIMIT", "MAX_SKIP", "install"]

MAX_LIMIT: Final = 500
MAX_SKIP: Final = 2**63 - 1
"""The largest offset the databases take (a signed 64-bit integer)."""

_JSON = "application/json"
_NDJSON = "application/x-ndjson"
_NO_TAGS: Final[list[str]] = []

_ERRORS: Final[dict[int, str]] = {
    400: "The body is not JSON.",
    403: "The write would take the account past its quota of notes or stored bytes; "
    "nothing changed.",
    404: "No note has this id.",
    409: "The `Idempotency-Key` was first used with a different request.",
    412: "`If-Match` names a version that is not the note's current one; nothing changed.",
    422: "The request breaks a rule; `errors` says which field and why.",
    503: "The database cannot be reached (`Retry-After`); nothing changed.",
}
_ETAG_HEADER = {
    "ETag": {
        "description": 'The note\'s version, as a strong tag: `"3"`.',
        "schema": {"type": "string"},
    }
}


def _responses(
    *statuses: int, ok: dict[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The documented answers: ``ok`` as given, then a problem for each of ``statuses``."""
    documented: dict[int | str, dict[str, Any]] = {**(ok or {})}
    for status in statuses:
        documented[status] = {"model": Problem, "description": _ERRORS[status]}
    return documented


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
        description='Make the write conditional on the note\'s version: `"3"` from its `ETag`. '
        "A stale version gets 412 and changes nothing.",
        examples=['"3"'],
    ),
]


def _note_response(note: Note, status_code: int = 200, **headers: str) -> Response:
    return Response(
        note_json(note),
        status_code=status_code,
        media_type=_JSON,
        headers={"ETag": etag(note.version), **headers},
    )


@_route(
    "POST",
    "/notes/",
    status_code=201,
    response_model=NotePublic,
    summary="Create a note",
    responses=_responses(
        400,
        403,
        409,
        422,
        503,
        ok={
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
    ),
)
async def create_note(
    body: NoteCreate,
    notes: NotesDep,
    caller: CallerDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create a note from a title, a description and tags."""
    note = await notes.create_note(caller, body.to_draft(), idempotency_key=idempotency_key)
    location = f"{request.scope.get('root_path', '')}/notes/{note.id}"
    return _note_response(note, 201, Location=location)


@_route(
    "POST",
    "/notes/import",
    status_code=201,
    response_model=list[NotePublic],
    summary="Import notes, all or none",
    responses=_responses(
        400,
        403,
        409,
        422,
        503,
        ok={201: {"description": "The created notes, in the order sent."}},
    ),
)
async def import_notes(
    body: Annotated[list[NoteCreate], Body(min_length=1, max_length=MAX_IMPORT)],
    notes: NotesDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create up to 1,000 notes in one transaction: if one breaks a rule (the answer names
    its index and field) or the database fails, none is created."""
    created = await notes.import_notes(
        caller, [note.to_draft() for note in body], idempotency_key=idempotency_key
    )
    return Response(notes_json(created), status_code=201, media_type=_JSON)


@_route(
    "GET",
    "/notes/export",
    summary="Export every note",
    response_class=StreamingResponse,
    responses={
        **_responses(503),
        200: {
            "description": "Every note, oldest first, one JSON object a line (NDJSON).",
            "content": {_NDJSON: {"schema": {"type": "string"}}},
        },
    },
)
async def export_notes(notes: NotesDep, caller: CallerDep) -> StreamingResponse:
    """Every note of the caller as NDJSON, streamed: the notes are read a page at a time as
    the client reads, so the server's memory does not grow with their number."""
    pages = notes.export_notes(caller)
    # Read the first page before answering, so that an unreachable database is a 503 rather
    # than a 200 whose body breaks off.
    first: list[Note] = await anext(pages, [])

    async def lines() -> AsyncIterator[bytes]:
        page = first
        while page:
            yield b"".join(note_json(note) + b"\n" for note in page)
            page = await anext(pages, [])

    return StreamingResponse(lines(), media_type=_NDJSON)


@_route(
    "GET",
    "/notes/",
    response_model=list[NotePublic],
    summary="List, filter and search notes",
    responses={
        **_responses(422, 503),
        400: {"model": Problem, "description": "The cursor is not one issued for this listing."},
        200: {
            "description": "A page of notes.",
            "headers": {
                "Link": {
                    "description": 'The next page: `<URL>; rel="next"`; absent on the last page.',
                    "schema": {"type": "string"},
                }
            },
        },
    },
)
async def list_notes(
    request: Request,
    notes: NotesDep,
    caller: CallerDep,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"At most this many notes, 1 to {MAX_LIMIT}.")
    ] = 100,
    cursor: Annotated[
        str | None,
        Query(
            max_length=1000,
            description="Where the page starts: from the previous page's "
            '`Link: <…>; rel="next"`. Opaque; valid only with the same `order`, `tag` and `q`.',
        ),
    ] = None,
    skip: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_SKIP,
            description="Leave out this many notes first (offset paging, for tutorial "
            "clients; not with `cursor`). Prefer the cursor: a deep page costs what the "
            "first does, and notes created or deleted meanwhile do not shift it.",
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
    codec = _cursors(request)
    after = codec.decode(cursor, listing) if cursor is not None else None
    page = await notes.find_notes(
        caller, NoteQuery(tags=tag, text=q, order=order, limit=limit, skip=skip, after=after)
    )
    headers = {}
    if page.next is not None:
        following = request.url.remove_query_params(["skip", "cursor"]).include_query_params(
            cursor=codec.encode(page.next, listing)
        )
        headers["Link"] = f'<{following}>; rel="next"'
    return Response(notes_json(page.notes), media_type=_JSON, headers=headers)


def _cursors(request: Request) -> CursorCodec:
    """The cursor codec, made once per app from the service's signing key."""
    state = request.app.state
    codec: CursorCodec | None = getattr(state, "cursors", None)
    if codec is None:
        codec = state.cursors = CursorCodec(state.container.signing_key())
    return codec


@_route(
    "GET",
    "/notes/{note_id}",
    response_model=NotePublic,
    summary="Read a note",
    responses=_responses(
        404,
        422,
        503,
        ok={
            200: {"description": "The note.", "headers": _ETAG_HEADER},
            304: {"description": "`If-None-Match` names the current version: no body."},
        },
    ),
)
async def get_note(
    note_id: NoteId,
    notes: NotesDep,
    caller: CallerDep,
    if_none_match: Annotated[
        str | None,
        Header(description="The `ETag` of a copy the client holds; if current, 304 answers."),
    ] = None,
) -> Response:
    """One note, with its version as the `ETag`."""
    note = await notes.get_note(caller, note_id)
    if if_none_match_matches(if_none_match, note.version):
        return Response(status_code=304, headers={"ETag": etag(note.version)})
    return _note_response(note)


@_route(
    "PUT",
    "/notes/{note_id}",
    response_model=NotePublic,
    summary="Replace a note",
    responses=_responses(
        400,
        403,
        404,
        412,
        422,
        503,
        ok={200: {"description": "The note.", "headers": _ETAG_HEADER}},
    ),
)
async def replace_note(
    note_id: NoteId, body: NoteReplace, notes: NotesDep, caller: CallerDep, if_match: IfMatch = None
) -> Response:
    """Replace the note's title, description and tags; its version grows by one."""
    note = await notes.replace_note(
        caller, note_id, body.to_draft(), if_version=if_match_version(if_match)
    )
    return _note_response(note)


@_route(
    "PATCH",
    "/notes/{note_id}",
    response_model=NotePublic,
    summary="Change some of a note's fields",
    responses=_responses(
        400,
        403,
        404,
        412,
        422,
        503,
        ok={200: {"description": "The note.", "headers": _ETAG_HEADER}},
    ),
)
async def patch_note(
    note_id: NoteId, body: NotePatch, notes: NotesDep, caller: CallerDep, if_match: IfMatch = None
) -> Response:
    """Change only the fields sent; its version grows by one."""
    note = await notes.patch_note(
        caller, note_id, body.to_changes(), if_version=if_match_version(if_match)
    )
    return _note_response(note)


@_route(
    "DELETE",
    "/notes/{note_id}",
    status_code=204,
    summary="Delete a note",
    responses=_responses(404, 412, 422, 503),
)
async def delete_note(
    note_id: NoteId, notes: NotesDep, caller: CallerDep, if_match: IfMatch = None
) -> Response:
    """Delete the note."""
    await notes.delete_note(caller, note_id, if_version=if_match_version(if_match))
    return Response(status_code=204)
