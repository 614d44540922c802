"""What routes get from the application: FastAPI dependencies that ask the app's
dependency-injector container, and who is calling, from the bearer token, without a storage
round trip.

The container is the one place objects come from: a dependency resolves its provider on
every request (a singleton, built once, then handed out again).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from application import Accounts, NotAuthenticated, Notes
from entrypoints.container import Container, resolve
from entrypoints.http.context import request_context
from entrypoints.http.cursors import CursorCodec
from entrypoints.settings import Settings

__all__ = [
    "AccountsDep",
    "CallerDep",
    "ContainerDep",
    "CursorsDep",
    "NotesDep",
    "SettingsDep",
    "container_of",
]

_bearer = OAuth2PasswordBearer(
    tokenUrl="/auth/token",
    auto_error=False,
    description="An access token from `POST /auth/token` or `POST /auth/refresh`.",
)


def container_of(request: Request) -> Container:
    """The container of the app serving ``request``."""
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(container_of)]


async def get_notes(container: ContainerDep) -> Notes:
    """The notes use cases. Async on purpose here and below: FastAPI runs a synchronous
    dependency in a worker thread."""
    return await resolve(container.notes)


async def get_accounts(container: ContainerDep) -> Accounts:
    return await resolve(container.accounts)


async def get_settings(container: ContainerDep) -> Settings:
    return container.settings()


async def get_cursors(container: ContainerDep) -> CursorCodec:
    return container.cursors()


async def get_caller(
    request: Request,
    accounts: Annotated[Accounts, Depends(get_accounts)],
    token: Annotated[str | None, Depends(_bearer)],
) -> UUID:
    """The id of the user the request's bearer token speaks for; ``NotAuthenticated``
    (401) without a valid one. The id goes on the request's log line."""
    if token is None:
        raise NotAuthenticated("this endpoint needs an Authorization: Bearer access token")
    caller = accounts.authenticate(token)
    context = request_context(request.scope)
    if context is not None:
        context.user_id = caller
    return caller


NotesDep = Annotated[Notes, Depends(get_notes)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]
CallerDep = Annotated[UUID, Depends(get_caller)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CursorsDep = Annotated[CursorCodec, Depends(get_cursors)]
