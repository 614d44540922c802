"""The accounts routes: register, log in (the OAuth2 password grant), refresh, log out, and
who am I."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Depends, Response
from fastapi.security import OAuth2PasswordRequestForm

from entrypoints.http.account_schemas import RefreshRequest, TokenPair, UserCreate, UserPublic
from entrypoints.http.clients import ClientDep
from entrypoints.http.dependencies import AccountsDep, CallerDep
from entrypoints.http.routing import Routes
from entrypoints.http.schemas import Problem

__all__ = ["install"]

_routes = Routes("accounts")
install = _routes.install

_ERRORS: Final[dict[int, str]] = {
    401: "No valid credentials (`WWW-Authenticate: Bearer`).",
    409: "The username is taken (in any letter case).",
    422: "The request breaks a rule; `errors` says which field and why.",
    429: "Too many failed logins for this username, or attempts from this address; retry "
    "after `Retry-After` seconds.",
    503: "The database cannot be reached, or too many logins are being checked "
    "(`Retry-After`); nothing changed.",
}


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": Problem, "description": _ERRORS[status]} for status in statuses}


def _json(model: UserPublic | TokenPair, status_code: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


@_routes.route(
    "POST",
    "/users/",
    status_code=201,
    response_model=UserPublic,
    summary="Register",
    responses=_responses(409, 422, 429, 503),
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
    responses=_responses(401, 422, 429, 503),
)
async def log_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    accounts: AccountsDep,
    client: ClientDep,
) -> Response:
    """The OAuth2 password grant: form fields `username` and `password`. A wrong password and
    an unknown username get the same answer."""
    session = await accounts.log_in(form.username, form.password, client=client)
    return _json(TokenPair.of(session))


@_routes.route(
    "POST",
    "/auth/refresh",
    response_model=TokenPair,
    summary="Refresh a session",
    responses=_responses(401, 422, 503),
)
async def refresh(body: RefreshRequest, accounts: AccountsDep) -> Response:
    """Trade a refresh token for a new pair. Each refresh token works once: presenting it
    again signs out every session that descends from the same login."""
    session = await accounts.refresh(body.refresh_token)
    return _json(TokenPair.of(session))


@_routes.route(
    "POST",
    "/auth/logout",
    status_code=204,
    summary="Log out",
    responses=_responses(422, 503),
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
    responses=_responses(401, 503),
)
async def who_am_i(caller: CallerDep, accounts: AccountsDep) -> Response:
    """The account the access token belongs to."""
    return _json(UserPublic.of(await accounts.get_user(caller)))
