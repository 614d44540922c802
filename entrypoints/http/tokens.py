"""``/users/me/tokens``: personal access tokens, managed with a login's access token only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal
from uuid import UUID

from fastapi import Depends, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from application import NotAuthenticated, StorageUnavailable
from application.personal_tokens import InsufficientScope, PersonalTokens, TokenNotFound
from domain import RuleViolation
from domain.personal_tokens import MAX_TOKEN_DAYS, MAX_TOKEN_NAME, SCOPES, PersonalToken
from entrypoints.container import resolve
from entrypoints.http.dependencies import LoginCallerDep, container_of
from entrypoints.http.routing import Routes

__all__ = ["TokenCreate", "TokenCreated", "TokenPublic", "install"]

_routes = Routes("access tokens")
install = _routes.install
_ERRORS: Final = (RequestValidationError, StorageUnavailable, NotAuthenticated, InsufficientScope)
_NO_STORE: Final = {"Cache-Control": "no-store"}


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_TOKEN_NAME)
    scopes: list[Literal["notes:read", "notes:write"]] = Field(min_length=1, max_length=len(SCOPES))
    expires_in_days: int = Field(default=90, ge=1, le=MAX_TOKEN_DAYS)


class TokenPublic(BaseModel):
    """A personal access token, without its secret."""

    id: UUID
    name: str
    scopes: list[str]
    created_date: datetime
    expires_date: datetime
    last_used_date: datetime | None

    @classmethod
    def of(cls, token: PersonalToken) -> TokenPublic:
        return cls(
            id=token.id,
            name=token.name,
            scopes=[s for s in SCOPES if s in token.scopes],
            created_date=token.created_date,
            expires_date=token.expires_date,
            last_used_date=token.last_used_date,
        )


class TokenCreated(TokenPublic):
    token: str = Field(description="The token (`nst_…`): shown this once, stored only hashed.")


async def _tokens(request: Request) -> PersonalTokens:
    return await resolve(container_of(request).personal_tokens)


TokensDep = Annotated[PersonalTokens, Depends(_tokens)]
TokenId = Annotated[UUID, Path(description="The token's id.")]


@_routes.route(
    "POST",
    "/users/me/tokens",
    status_code=201,
    response_model=TokenCreated,
    summary="Create a personal access token",
    errors=(*_ERRORS, RuleViolation),
)
async def create_token(body: TokenCreate, caller: LoginCallerDep, tokens: TokensDep) -> Response:
    """A token for a program, with scopes and an expiry; the answer shows it this once."""
    created = await tokens.create(caller.id, body.name, list(body.scopes), body.expires_in_days)
    public = TokenCreated(**TokenPublic.of(created.token).model_dump(), token=created.text)
    return Response(
        public.model_dump_json(), status_code=201, media_type="application/json", headers=_NO_STORE
    )


@_routes.route(
    "GET",
    "/users/me/tokens",
    response_model=list[TokenPublic],
    summary="List your personal access tokens",
    errors=_ERRORS,
)
async def list_tokens(caller: LoginCallerDep, tokens: TokensDep) -> Response:
    """The caller's tokens, newest first, without their secrets."""
    found = [
        TokenPublic.of(token).model_dump(mode="json") for token in await tokens.list(caller.id)
    ]
    return Response(to_json(found), media_type="application/json", headers=_NO_STORE)


@_routes.route(
    "DELETE",
    "/users/me/tokens/{token_id}",
    status_code=204,
    summary="Revoke a personal access token",
    errors=(*_ERRORS, TokenNotFound),
)
async def revoke_token(token_id: TokenId, caller: LoginCallerDep, tokens: TokensDep) -> Response:
    """Revoke the token: from now on it is refused."""
    await tokens.revoke(caller.id, token_id)
    return Response(status_code=204)
