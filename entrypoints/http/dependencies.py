"""What routes get from the application: FastAPI dependencies that ask the app's
dependency-injector container, and who is calling, from the bearer token, without a storage
round trip.

The container is the one place objects come from: a dependency resolves its provider on
every request (a singleton, built once, then handed out again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from application import Accounts, NotAuthenticated, Notes
from application.sharing import Usernames
from domain import Note
from entrypoints.container import Container, resolve
from entrypoints.http.context import request_context

__all__ = [
    "AccountsDep",
    "Caller",
    "CallerDep",
    "ContainerDep",
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


class _BearerCaller(OAuth2PasswordBearer):
    """The bearer token of OAuth2's password flow, documented as FastAPI documents it, and
    resolved to the ``Caller`` it speaks for: one dependency does both, because FastAPI
    solves every sub-dependency anew on every request."""

    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        """``NotAuthenticated`` (401) without a valid token. The caller's id goes on the
        request's log line."""
        token = await super().__call__(request)
        if token is None:
            raise NotAuthenticated("this endpoint needs an Authorization: Bearer access token")
        return await caller_for(request, token)


async def caller_for(request: Request, token: str) -> Caller:
    """The ``Caller`` that bearer ``token`` speaks for, put on ``request``'s log line;
    ``NotAuthenticated`` (401) if the token is not valid. The one place a request's caller
    is decided, for the dependency and the routes' shortcuts alike."""
    container = container_of(request)
    accounts: Accounts = await resolve(container.accounts)
    caller = accounts.authenticate(token)
    context = request_context(request.scope)
    if context is not None:
        context.user_id = caller
    return Caller(caller, await resolve(container.notes), accounts, container)


_caller = _BearerCaller(
    tokenUrl="/auth/token",
    auto_error=False,
    description="An access token from `POST /auth/token` or `POST /auth/refresh`.",
)


ContainerDep = Annotated[Container, Depends(get_container)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]
CallerDep = Annotated[Caller, Depends(_caller)]
