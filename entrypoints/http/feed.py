"""``GET /notes/changes``: the change feed (``application.feed``), with a sealed cursor.

Installed before the ``/notes`` routes, so that ``changes`` is not read as a note's id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from pydantic_core import to_json

from application import StorageUnavailable
from application.feed import MAX_CHANGES, Change, Feed, ResyncRequired
from application.personal_tokens import InsufficientScope
from entrypoints.container import resolve
from entrypoints.http.cursors import BadCursor
from entrypoints.http.dependencies import NotesReaderDep, container_of
from entrypoints.http.routing import Routes
from entrypoints.http.schemas import NotePublic, public_fields

__all__ = ["ChangePublic", "FeedPublic", "install"]

_routes = Routes("change feed")
install = _routes.install


class ChangePublic(BaseModel):
    """A note's latest state: an upsert carries the note; a delete (to the trash or for
    good) carries ``null``."""

    id: str
    change: str = Field(description="`upsert` or `delete`.")
    version: int
    note: NotePublic | None
    changed_date: datetime


class FeedPublic(BaseModel):
    changes: list[ChangePublic]
    cursor: str = Field(description="Send it back as `since` for the changes after these.")
    more: bool = Field(description="Whether more changes are already waiting.")


async def _feed(request: Request) -> Feed:
    return await resolve(container_of(request).feed)


FeedDep = Annotated[Feed, Depends(_feed)]


def _change(change: Change, owner: str) -> dict[str, Any]:
    return {
        "id": str(change.note_id),
        "change": "delete" if change.note is None else "upsert",
        "version": change.version,
        "note": None if change.note is None else public_fields(change.note, owner),
        "changed_date": change.changed_date,
    }


_NO_STORE: Final = {"Cache-Control": "no-store"}


@_routes.route(
    "GET",
    "/notes/changes",
    response_model=FeedPublic,
    summary="Follow the changes to your notes",
    errors=(
        RequestValidationError,
        StorageUnavailable,
        InsufficientScope,
        BadCursor,
        ResyncRequired,
    ),
)
async def note_changes(
    caller: NotesReaderDep,
    feed: FeedDep,
    since: Annotated[
        str | None,
        Query(max_length=1000, description="The `cursor` of the previous answer."),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_CHANGES, description="Changes per answer, 1 to 1,000.")
    ] = 500,
) -> Response:
    """The changes committed after `since` (without it: every note, then what changes),
    each note at most once, in its latest state, in commit order."""
    codec = caller.container.cursors()
    position = codec.decode_feed(since) if since is not None else None
    page = await feed.changes(caller.id, position, limit=limit)
    owner = await caller.username()
    body = {
        "changes": [_change(change, owner) for change in page.changes],
        "cursor": codec.encode_feed(page.position),
        "more": page.more,
    }
    return Response(to_json(body), media_type="application/json", headers=_NO_STORE)
