"""What routes get from the application: FastAPI dependencies that ask the app's
dependency-injector container, and who is calling, from the bearer token.

A bearer token is a login's access token (signed, checked without storage) or a personal
access token (``nst_…``, checked with one lookup by its key, so revoking it takes effect at
once). What a route needs of its caller is in the name of its dependency:

* ``NotesReaderDep``: may read notes (a login, or a token with ``notes:read`` or
  ``notes:write``);
* ``NotesWriterDep``: may change notes (a login, or a token with ``notes:write``);
* ``LoginCallerDep`` (and ``CallerDep``, the same): a login's access token; a personal access
  token is refused with 403 ``insufficient_scope`` (managing tokens, webhooks, shares, the
  account).

The container is the one place objects come from: a dependency resolves its provider on
every request (a singleton, built once, then handed out again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from application import Accounts, NotAuthenticated, Notes
from application.personal_tokens import InsufficientScope, PersonalTokens
from application.sharing import Usernames
from domain import Note
from domain.personal_tokens import Scope, allows, is_personal_token
from entrypoints.container import Container, resolve
from entrypoints.http.context import request_context

__all__ = [
    "AccountsDep",
    "Caller",
    "CallerDep",
    "ContainerDep",
    "LoginCallerDep",
    "Need",
    "NotesReaderDep",
    "NotesWriterDep",
    "caller_for",
    "container_of",
]


def container_of(request: Request) -> Container:
    """The container of the app serving ``request``."""
    container: Container = request.app.state.container
    return container


# Each dependency below asks the container itself rather than through a sub-dependency:
# FastAPI solves every sub-dependency anew on every request. Each is async because FastAPI
# runs a synchronous dependency in a worker thread.


async def get_container(request: Request) -> Container:
    return container_of(request)


async def get_accounts(request: Request) -> Accounts:
    """The accounts use cases."""
    return await resolve(container_of(request).accounts)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling (``id``, from the bearer token), and the use cases and container to
    act for them with."""

    id: UUID
    notes: Notes
    accounts: Accounts
    container: Container
    scopes: frozenset[Scope] | None = None
    """A personal access token's scopes; ``None`` for a login's access token."""

    async def username(self) -> str:
        """The caller's username: the owner of every note of their own in an answer."""
        return (await self.owners(()))[self.id]

    async def owners(self, notes: Sequence[Note]) -> dict[UUID, str]:
        """The username of the caller and of each note's owner, by user id; without a
        round trip once known (``Usernames``)."""
        usernames: Usernames = await resolve(self.container.usernames)
        named = await usernames.of([self.id, *(note.owner_id for note in notes)])
        if self.id not in named:
            raise NotAuthenticated("the user no longer exists")
        return named


Need = Literal["read", "write", "login"]
_SCOPE_OF: dict[Need, Scope] = {"read": "notes:read", "write": "notes:write"}


class _BearerCaller(OAuth2PasswordBearer):
    """The bearer token of OAuth2's password flow, documented as FastAPI documents it, and
    resolved to the ``Caller`` it speaks for: one dependency does both, because FastAPI
    solves every sub-dependency anew on every request."""

    def __init__(self, need: Need, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.need: Need = need

    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        """``NotAuthenticated`` (401) without a valid token, ``InsufficientScope`` (403)
        with one that does not allow what the route does. The caller's id goes on the
        request's log line."""
        token = await super().__call__(request)
        if token is None:
            raise NotAuthenticated("this endpoint needs an Authorization: Bearer access token")
        return await caller_for(request, token, self.need)


async def caller_for(request: Request, token: str, need: Need = "login") -> Caller:
    """The ``Caller`` that bearer ``token`` speaks for, put on ``request``'s log line;
    ``NotAuthenticated`` (401) if the token is not valid, ``InsufficientScope`` (403) if it
    does not allow ``need``. The one place a request's caller is decided, for the
    dependencies and the routes' shortcuts alike."""
    container = container_of(request)
    accounts: Accounts = await resolve(container.accounts)
    scopes: frozenset[Scope] | None = None
    if is_personal_token(token):
        tokens: PersonalTokens = await resolve(container.personal_tokens)
        grant = await tokens.check(token)
        caller, scopes = grant.owner_id, grant.scopes
    else:
        caller = accounts.authenticate(token)
    context = request_context(request.scope)
    if context is not None:
        context.user_id = caller
    if scopes is not None:
        if need == "login":
            raise InsufficientScope("this endpoint needs a login's access token")
        if not allows(scopes, _SCOPE_OF[need]):
            raise InsufficientScope(f"this token lacks the {_SCOPE_OF[need]} scope")
    return Caller(caller, await resolve(container.notes), accounts, container, scopes)


_DESCRIPTION = (
    "An access token from `POST /auth/token` or `POST /auth/refresh`; on the `/notes` and "
    "`/trash` endpoints also a personal access token (`nst_…`, `POST /users/me/tokens`) with "
    "the scope `notes:read` (reads) or `notes:write` (writes and reads)."
)


def _bearer(need: Need) -> _BearerCaller:
    return _BearerCaller(need, tokenUrl="/auth/token", auto_error=False, description=_DESCRIPTION)


_reader = _bearer("read")
_writer = _bearer("write")
_login = _bearer("login")


ContainerDep = Annotated[Container, Depends(get_container)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]
NotesReaderDep = Annotated[Caller, Depends(_reader)]
NotesWriterDep = Annotated[Caller, Depends(_writer)]
LoginCallerDep = Annotated[Caller, Depends(_login)]
CallerDep = LoginCallerDep
"""A login's access token (kept for the routes that manage an account and its credentials)."""
