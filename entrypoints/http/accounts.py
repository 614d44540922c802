"""The accounts routes: register, log in (the OAuth2 password grant), refresh, log out, and
who am I."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Form, Response
from fastapi.exceptions import RequestValidationError

from application import (
    InvalidCredentials,
    NotAuthenticated,
    Overloaded,
    StorageUnavailable,
    TooManyAttempts,
    UsernameTaken,
)
from application.personal_tokens import InsufficientScope
from domain import RuleViolation
from entrypoints.http.account_schemas import (
    LoginForm,
    RefreshRequest,
    TokenPair,
    UserCreate,
    UserPublic,
)
from entrypoints.http.clients import ClientDep
from entrypoints.http.dependencies import AccountsDep, CallerDep
from entrypoints.http.routing import Routes

__all__ = ["install"]

_routes = Routes("accounts")
install = _routes.install

_ALWAYS: Final = (RequestValidationError, StorageUnavailable)
_NO_STORE: Final = {"Cache-Control": "no-store"}
_TOKENS: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "description": "A new session.",
        "headers": {"Cache-Control": {"description": "`no-store`.", "schema": {"type": "string"}}},
    }
}


def _json(
    model: UserPublic | TokenPair, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


@_routes.route(
    "POST",
    "/users/",
    status_code=201,
    response_model=UserPublic,
    summary="Register",
    errors=(*_ALWAYS, RuleViolation, UsernameTaken, TooManyAttempts, Overloaded),
)
async def register(body: UserCreate, accounts: AccountsDep, client: ClientDep) -> Response:
    """Create an account; then log in with `POST /auth/token`. The most common passwords
    are refused."""
    user = await accounts.register(body.username, body.password, client=client)
    return _json(UserPublic.of(user), 201)


@_routes.route(
    "POST",
    "/auth/token",
    response_model=TokenPair,
    summary="Log in",
    errors=(*_ALWAYS, InvalidCredentials, TooManyAttempts, Overloaded),
    responses=_TOKENS,
)
async def log_in(
    form: Annotated[LoginForm, Form()], accounts: AccountsDep, client: ClientDep
) -> Response:
    """The OAuth2 password grant: form fields `username` and `password`. A wrong password and
    an unknown username get the same answer."""
    session = await accounts.log_in(form.username, form.password, client=client)
    return _json(TokenPair.of(session), headers=_NO_STORE)


@_routes.route(
    "POST",
    "/auth/refresh",
    response_model=TokenPair,
    summary="Refresh a session",
    errors=(*_ALWAYS, NotAuthenticated),
    responses=_TOKENS,
)
async def refresh(body: RefreshRequest, accounts: AccountsDep) -> Response:
    """Trade a refresh token for a new pair. Each refresh token works once: presenting it
    again signs out every session that descends from the same login."""
    session = await accounts.refresh(body.refresh_token)
    return _json(TokenPair.of(session), headers=_NO_STORE)


@_routes.route(
    "POST",
    "/auth/logout",
    status_code=204,
    summary="Log out",
    errors=_ALWAYS,
)
async def log_out(body: RefreshRequest, accounts: AccountsDep) -> Response:
    """Revoke the refresh token and every token issued from it. Access tokens already issued
    expire on their own, within their lifetime."""
    await accounts.log_out(body.refresh_token)
    return Response(status_code=204)


@_routes.route(
    "GET",
    "/users/me",
    response_model=UserPublic,
    summary="Who am I",
    errors=(*_ALWAYS, NotAuthenticated, InsufficientScope),
)
async def who_am_i(caller: CallerDep) -> Response:
    """The account the access token belongs to."""
    return _json(UserPublic.of(await caller.accounts.get_user(caller.id)))
