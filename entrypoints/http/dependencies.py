"""What routes get from the application, resolved once at start-up rather than per request,
and who is calling, from the bearer token, without a storage round trip."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from application import Accounts, NotAuthenticated, Notes
from entrypoints.http.context import request_context
from entrypoints.http.fastpath import FAST_DEPENDENCIES

__all__ = ["AccountsDep", "CallerDep", "NotesDep", "get_accounts", "get_caller", "get_notes"]

_bearer = OAuth2PasswordBearer(
    tokenUrl="/auth/token",
    auto_error=False,
    description="An access token from `POST /auth/token` or `POST /auth/refresh`.",
)


async def get_notes(request: Request) -> Notes:
    """The use cases the lifespan put on ``app.state``.

    Async on purpose: FastAPI runs a synchronous dependency in a worker thread.
    """
    notes: Notes = request.app.state.notes
    return notes


async def get_accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


async def get_caller(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> UUID:
    """The id of the user the request's bearer token speaks for; ``NotAuthenticated``
    (401) without a valid one. The id goes on the request's log line.

    ``Accounts`` is read from ``app.state`` here, not through ``get_accounts``: FastAPI
    resolves every sub-dependency anew on every request of every ``/notes`` route."""
    if token is None:
        raise NotAuthenticated("this endpoint needs an Authorization: Bearer access token")
    accounts: Accounts = request.app.state.accounts
    caller = accounts.authenticate(token)
    context = request_context(request.scope)
    if context is not None:
        context.user_id = caller
    return caller


NotesDep = Annotated[Notes, Depends(get_notes)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]
CallerDep = Annotated[UUID, Depends(get_caller)]


async def _caller_of(request: Request) -> UUID:
    """``get_caller`` with its bearer token read as its sub-dependency reads it."""
    return await get_caller(request, await _bearer(request))


FAST_DEPENDENCIES.update({get_notes: get_notes, get_accounts: get_accounts, get_caller: _caller_of})
