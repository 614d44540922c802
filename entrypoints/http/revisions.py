"""The revision and trash routes: ``/notes/{id}/revisions…`` and ``/trash/…``.

Only the owner reaches a note's revisions or trash; another user's is not found. Paging is
by keyset, as ``GET /notes/``: the next page's URL is in ``Link``, with a sealed cursor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final
from uuid import UUID

from fastapi import Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from application import (
    NoteNotFound,
    Position,
    PreconditionFailed,
    StorageUnavailable,
    VersionRequired,
)
from application.personal_tokens import InsufficientScope
from application.revisions import RevisionNotFound, Revisions, Trash
from entrypoints.container import resolve
from entrypoints.http.cursors import BadCursor
from entrypoints.http.dependencies import NotesReaderDep, NotesWriterDep, container_of
from entrypoints.http.etags import MalformedPrecondition, etag
from entrypoints.http.notes import IfMatch, NoteId, if_version
from entrypoints.http.revision_schemas import (
    RevisionPublic,
    TrashedNotePublic,
    revision_json,
    revisions_json,
    trashed_json,
)
from entrypoints.http.routing import Routes
from entrypoints.http.schemas import NotePublic, note_json

__all__ = ["install"]

_JSON = "application/json"
_NO_STORE: Final = {"Cache-Control": "no-store"}
_READ: Final = (RequestValidationError, StorageUnavailable, InsufficientScope)
_LINK = {
    "Link": {
        "description": 'The next page: `<URL>; rel="next"`; absent on the last page.',
        "schema": {"type": "string"},
    }
}
# A revision's cursor holds its version; the moment is unused.
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_TRASH_LISTING: Final = "trash"

_routes = Routes("revisions and trash")
install = _routes.install
_route = _routes.route

Version = Annotated[int, Path(ge=1, le=2**31 - 1, description="A version of the note.")]
Limit = Annotated[int, Query(ge=1, le=500, description="At most this many, 1 to 500.")]
Cursor = Annotated[
    str | None,
    Query(max_length=1000, description='From the previous page\'s `Link: <…>; rel="next"`.'),
]


async def _revisions(request: Request) -> Revisions:
    return await resolve(container_of(request).revisions)


async def _trash(request: Request) -> Trash:
    return await resolve(container_of(request).trash)


RevisionsDep = Annotated[Revisions, Depends(_revisions)]
TrashDep = Annotated[Trash, Depends(_trash)]


def _next_link(request: Request, cursor: str) -> str:
    following = request.url.remove_query_params(["cursor"]).include_query_params(cursor=cursor)
    return f'<{following}>; rel="next"'


@_route(
    "GET",
    "/notes/{note_id}/revisions",
    response_model=list[RevisionPublic],
    summary="List a note's revisions",
    errors=(*_READ, BadCursor, NoteNotFound),
    responses={200: {"description": "A page of revisions, newest first.", "headers": _LINK}},
)
async def list_revisions(
    note_id: NoteId,
    request: Request,
    caller: NotesReaderDep,
    revisions: RevisionsDep,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    """The note's kept versions, the current one first."""
    codec = caller.container.cursors()
    listing = f"revisions {note_id}"
    before = int(codec.decode(cursor, listing).score) if cursor is not None else None
    page = await revisions.list_revisions(caller.id, note_id, limit=limit, before=before)
    headers = dict(_NO_STORE)
    if page.next is not None:
        position = Position(moment=_EPOCH, id=note_id, score=float(page.next))
        headers["Link"] = _next_link(request, codec.encode(position, listing))
    return Response(revisions_json(page.revisions), media_type=_JSON, headers=headers)


@_route(
    "GET",
    "/notes/{note_id}/revisions/{version}",
    response_model=RevisionPublic,
    summary="Read one revision of a note",
    errors=(*_READ, NoteNotFound, RevisionNotFound),
)
async def get_revision(
    note_id: NoteId, version: Version, caller: NotesReaderDep, revisions: RevisionsDep
) -> Response:
    """One kept version of the note."""
    revision = await revisions.get_revision(caller.id, note_id, version)
    return Response(revision_json(revision), media_type=_JSON, headers=_NO_STORE)


@_route(
    "POST",
    "/notes/{note_id}/revisions/{version}/restore",
    response_model=NotePublic,
    summary="Restore a revision of a note",
    errors=(
        *_READ,
        NoteNotFound,
        RevisionNotFound,
        MalformedPrecondition,
        PreconditionFailed,
        VersionRequired,
    ),
    responses={200: {"description": "The note, one version later."}},
)
async def restore_revision(
    note_id: NoteId,
    version: Version,
    caller: NotesWriterDep,
    revisions: RevisionsDep,
    if_match: IfMatch = None,
) -> Response:
    """Make that version's content the note's current one, as a new version."""
    expected = await if_version(if_match, caller, note_id)
    note = await revisions.restore_revision(caller.id, note_id, version, if_version=expected)
    return Response(
        note_json(note, await caller.username()),
        media_type=_JSON,
        headers={"ETag": etag(note.version), **_NO_STORE},
    )


@_route(
    "GET",
    "/trash/",
    response_model=list[TrashedNotePublic],
    summary="List the notes in the trash",
    errors=(*_READ, BadCursor),
    responses={
        200: {"description": "A page of deleted notes, most recent first.", "headers": _LINK}
    },
)
async def list_trash(
    request: Request,
    caller: NotesReaderDep,
    trash: TrashDep,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    """The caller's deleted notes, most recently deleted first."""
    codec = caller.container.cursors()
    after = None
    if cursor is not None:
        position = codec.decode(cursor, _TRASH_LISTING)
        after = (position.moment, position.id)
    page = await trash.list_trash(caller.id, limit=limit, after=after)
    headers = dict(_NO_STORE)
    if page.next is not None:
        moment, last = page.next
        next_cursor = codec.encode(Position(moment=moment, id=last), _TRASH_LISTING)
        headers["Link"] = _next_link(request, next_cursor)
    owner = await caller.username()
    return Response(trashed_json(page.notes, owner), media_type=_JSON, headers=headers)


TrashedId = Annotated[UUID, Path(description="The deleted note's id.")]


@_route(
    "GET",
    "/trash/{note_id}",
    response_model=TrashedNotePublic,
    summary="Read a note in the trash",
    errors=(*_READ, NoteNotFound),
)
async def get_trashed(note_id: TrashedId, caller: NotesReaderDep, trash: TrashDep) -> Response:
    """One deleted note."""
    trashed = await trash.get_trashed(caller.id, note_id)
    owner = await caller.username()
    return Response(trashed_json(trashed, owner), media_type=_JSON, headers=_NO_STORE)


@_route(
    "POST",
    "/trash/{note_id}/restore",
    response_model=NotePublic,
    summary="Restore a note from the trash",
    errors=(*_READ, NoteNotFound),
    responses={200: {"description": "The note, back, one version later."}},
)
async def restore_trashed(note_id: TrashedId, caller: NotesWriterDep, trash: TrashDep) -> Response:
    """Bring the note back, with its id, as a new version."""
    note = await trash.restore(caller.id, note_id)
    return Response(
        note_json(note, await caller.username()),
        media_type=_JSON,
        headers={"ETag": etag(note.version), **_NO_STORE},
    )


@_route(
    "DELETE",
    "/trash/{note_id}",
    status_code=204,
    summary="Delete a note for good",
    errors=(*_READ, NoteNotFound),
)
async def delete_for_good(note_id: TrashedId, caller: NotesWriterDep, trash: TrashDep) -> Response:
    """Delete the note in the trash for good, with its revisions."""
    await trash.delete_for_good(caller.id, note_id)
    return Response(status_code=204)
