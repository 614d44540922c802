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


# Each dependency below asks the container itself rather than through a sub-dependency:
# FastAPI solves every sub-dependency anew on every request. Each is async because FastAPI
# runs a synchronous dependency in a worker thread.


async def get_container(request: Request) -> Container:
    return container_of(request)


async def get_notes(request: Request) -> Notes:
    """The notes use cases."""
    return await resolve(container_of(request).notes)


async def get_accounts(request: Request) -> Accounts:
    """The accounts use cases."""
    return await resolve(container_of(request).accounts)


async def get_settings(request: Request) -> Settings:
    return container_of(request).settings()


async def get_cursors(request: Request) -> CursorCodec:
    return container_of(request).cursors()


async def get_caller(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> UUID:
    """The id of the user the request's bearer token speaks for; ``NotAuthenticated``
    (401) without a valid one. The id goes on the request's log line."""
    if token is None:
        raise NotAuthenticated("this endpoint needs an Authorization: Bearer access token")
    accounts: Accounts = await resolve(container_of(request).accounts)
    caller = accounts.authenticate(token)
    context = request_context(request.scope)
    if context is not None:
        context.user_id = caller
    return caller


ContainerDep = Annotated[Container, Depends(get_container)]
NotesDep = Annotated[Notes, Depends(get_notes)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]
CallerDep = Annotated[UUID, Depends(get_caller)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CursorsDep = Annotated[CursorCodec, Depends(get_cursors)]
