"""The sharing routes: ``/notes/{id}/shares…``, ``/shared/``, ``/notes/{id}/links…`` and
``/public/{token}``.

Managing shares and links is the owner's; anyone else (a grantee included) finds no such
note. ``GET /shared/`` lists the notes others share with the caller, paged and searched as
``GET /notes/``. ``GET /public/{token}`` needs no credentials and answers only a note's
content and dates.
"""

from __future__ import annotations

from typing import Annotated, Final
from uuid import UUID

from fastapi import Body, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from application import NoteNotFound, NoteQuery, Order, StorageUnavailable
from application.personal_tokens import InsufficientScope
from application.sharing import (
    LinkNotFound,
    PublicLinkNotFound,
    PublicLinkThrottled,
    ShareNotFound,
    Sharing,
    UserNotFound,
)
from domain import RuleViolation
from domain.search import MAX_QUERY_LENGTH
from domain.users import MAX_USERNAME_LENGTH
from entrypoints.container import resolve
from entrypoints.http.clients import ClientDep
from entrypoints.http.cursors import BadCursor, listing_digest
from entrypoints.http.dependencies import LoginCallerDep, NotesReaderDep, container_of
from entrypoints.http.notes import MAX_CURSOR, MAX_LIMIT, NoteId
from entrypoints.http.routing import Routes
from entrypoints.http.schemas import NotePublic, notes_json
from entrypoints.http.sharing_schemas import (
    LinkCreate,
    LinkPublic,
    NewLinkPublic,
    PublishedNote,
    ShareCreate,
    SharePublic,
    link_json,
    links_json,
    published_json,
    share_json,
    shares_json,
)

__all__ = ["install"]

_JSON = "application/json"
_NO_STORE: Final = {"Cache-Control": "no-store"}
_READ: Final = (RequestValidationError, StorageUnavailable)
# Every route but the public one needs a token; a personal access token is refused where
# it may not go (InsufficientScope).
_AUTHENTICATED: Final = (*_READ, InsufficientScope)
_NO_TAGS: Final[list[str]] = []

_routes = Routes("sharing")
install = _routes.install
_route = _routes.route

# Who may manage shares and links: the caller of a login's access token. The one place to
# choose another dependency (one refusing personal access tokens) for every management route.
ManagerDep = LoginCallerDep


async def _sharing(request: Request) -> Sharing:
    return await resolve(container_of(request).sharing)


SharingDep = Annotated[Sharing, Depends(_sharing)]
Username = Annotated[
    str, Path(min_length=1, max_length=MAX_USERNAME_LENGTH, description="The grantee's username.")
]
LinkId = Annotated[UUID, Path(description="The link's id.")]
Token = Annotated[str, Path(max_length=200, description="The token from the link's URL.")]


@_route(
    "PUT",
    "/notes/{note_id}/shares/{username}",
    response_model=SharePublic,
    summary="Share a note with a user",
    errors=(*_AUTHENTICATED, RuleViolation, NoteNotFound, UserNotFound),
    responses={200: {"description": "The share."}},
)
async def share_note(
    note_id: NoteId,
    username: Username,
    body: ShareCreate,
    caller: ManagerDep,
    sharing: SharingDep,
) -> Response:
    """Share a note of the caller's with a user, or change what they may do with it."""
    share = await sharing.share(caller.id, note_id, username, body.permission)
    return Response(share_json(share), media_type=_JSON, headers=_NO_STORE)


@_route(
    "GET",
    "/notes/{note_id}/shares",
    response_model=list[SharePublic],
    summary="List who a note is shared with",
    errors=(*_AUTHENTICATED, NoteNotFound),
)
async def list_shares(note_id: NoteId, caller: ManagerDep, sharing: SharingDep) -> Response:
    """Who the caller's note is shared with, first shared first."""
    shares = await sharing.shares(caller.id, note_id)
    return Response(shares_json(shares), media_type=_JSON, headers=_NO_STORE)


@_route(
    "DELETE",
    "/notes/{note_id}/shares/{username}",
    status_code=204,
    summary="Stop sharing a note with a user",
    errors=(*_AUTHENTICATED, NoteNotFound, ShareNotFound),
)
async def unshare_note(
    note_id: NoteId, username: Username, caller: ManagerDep, sharing: SharingDep
) -> Response:
    """The user no longer sees the note, from this answer on."""
    await sharing.unshare(caller.id, note_id, username)
    return Response(status_code=204)


@_route(
    "GET",
    "/shared/",
    response_model=list[NotePublic],
    summary="List, filter and search the notes shared with you",
    errors=(*_AUTHENTICATED, BadCursor, RuleViolation),
    responses={
        200: {
            "description": "A page of notes others share with the caller.",
            "headers": {
                "Link": {
                    "description": 'The next page: `<URL>; rel="next"`; absent on the last page.',
                    "schema": {"type": "string"},
                }
            },
        }
    },
)
async def list_shared(
    request: Request,
    caller: NotesReaderDep,
    sharing: SharingDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many notes.")] = 100,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR, description='From the previous page\'s `Link: <…>; rel="next"`.'
        ),
    ] = None,
    q: Annotated[
        str | None, Query(max_length=MAX_QUERY_LENGTH, description="Search, as on `GET /notes/`.")
    ] = None,
    tag: Annotated[list[str], Query(description="Repeatable: every tag given.")] = _NO_TAGS,
    order: Annotated[Order, Query(description="As on `GET /notes/`.")] = "created_desc",
) -> Response:
    """The notes others share with the caller (each names its `owner`), a page at a time."""
    listing = listing_digest(f"shared {order}", tag, q)
    codec = caller.container.cursors()
    after = codec.decode(cursor, listing) if cursor is not None else None
    page = await sharing.find_shared(
        caller.id, NoteQuery(tags=tag, text=q, order=order, limit=limit, after=after)
    )
    headers = dict(_NO_STORE)
    if page.next is not None:
        following = request.url.remove_query_params(["cursor"]).include_query_params(
            cursor=codec.encode(page.next, listing)
        )
        headers["Link"] = f'<{following}>; rel="next"'
    owners = await caller.owners(page.notes)
    return Response(notes_json(page.notes, owners), media_type=_JSON, headers=headers)


@_route(
    "POST",
    "/notes/{note_id}/links",
    status_code=201,
    response_model=NewLinkPublic,
    summary="Publish a note at a public read-only link",
    errors=(*_AUTHENTICATED, RuleViolation, NoteNotFound),
    responses={201: {"description": "The link; its URL is shown this once."}},
)
async def create_link(
    note_id: NoteId,
    request: Request,
    caller: ManagerDep,
    sharing: SharingDep,
    body: Annotated[LinkCreate | None, Body()] = None,
) -> Response:
    """A link anyone may read the note at, without signing in, until it expires or is
    revoked."""
    days = (body or LinkCreate()).expires_in_days
    issued = await sharing.create_link(caller.id, note_id, expires_in_days=days)
    url = f"{str(request.base_url).rstrip('/')}/public/{issued.token}"
    return Response(
        link_json(issued.link, url), status_code=201, media_type=_JSON, headers=_NO_STORE
    )


@_route(
    "GET",
    "/notes/{note_id}/links",
    response_model=list[LinkPublic],
    summary="List a note's public links",
    errors=(*_AUTHENTICATED, NoteNotFound),
)
async def list_links(note_id: NoteId, caller: ManagerDep, sharing: SharingDep) -> Response:
    """The note's links (without their tokens), expired ones included."""
    links = await sharing.links(caller.id, note_id)
    return Response(links_json(links), media_type=_JSON, headers=_NO_STORE)


@_route(
    "DELETE",
    "/notes/{note_id}/links/{link_id}",
    status_code=204,
    summary="Revoke a public link",
    errors=(*_AUTHENTICATED, NoteNotFound, LinkNotFound),
)
async def revoke_link(
    note_id: NoteId, link_id: LinkId, caller: ManagerDep, sharing: SharingDep
) -> Response:
    """The link stops working at once."""
    await sharing.revoke_link(caller.id, note_id, link_id)
    return Response(status_code=204)


@_route(
    "GET",
    "/public/{token}",
    response_model=PublishedNote,
    summary="Read a note at its public link",
    errors=(*_READ, PublicLinkNotFound, PublicLinkThrottled),
)
async def read_public(token: Token, client: ClientDep, sharing: SharingDep) -> Response:
    """The note's title, description, tags and dates; no credentials needed. An unknown,
    expired or revoked link, or one to a deleted note, is the same 404."""
    note = await sharing.public_note(token, client=client)
    return Response(published_json(note), media_type=_JSON, headers=_NO_STORE)
