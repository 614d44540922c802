"""The JSON shapes of the accounts API. As for notes, these check shape and types only; the
rules for usernames and passwords belong to the domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from application import Session
from domain import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, User
from domain.text import NOT_UNICODE, is_unicode

__all__ = ["LoginForm", "RefreshRequest", "TokenPair", "UserCreate", "UserPublic"]

_REQUEST = ConfigDict(strict=True, extra="forbid")


def _unicode(value: str) -> str:
    if not is_unicode(value):
        raise ValueError(NOT_UNICODE)
    return value


UnicodeText = Annotated[str, AfterValidator(_unicode)]
"""Text that is valid Unicode: a lone surrogate is a 422, not a failure further in."""
USERNAME_DOC = (
    "3 to 50 characters: letters, digits, `.`, `_` and `-`. Unique regardless of letter case."
)
PASSWORD_DOC = (
    f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters, no composition rules. "
    "Stored only as an Argon2id hash."
)


class UserCreate(BaseModel):
    """A new account."""

    model_config = _REQUEST | ConfigDict(
        json_schema_extra={"examples": [{"username": "alice", "password": "correct horse battery"}]}
    )

    username: str = Field(description=USERNAME_DOC)
    password: str = Field(description=PASSWORD_DOC)


class LoginForm(BaseModel):
    """The OAuth2 password grant's form (`application/x-www-form-urlencoded`). Other fields
    of the grant (`grant_type`, `scope`, `client_id`) are accepted and ignored."""

    username: str = Field(description=USERNAME_DOC)
    password: str = Field(description=PASSWORD_DOC)


class UserPublic(BaseModel):
    """An account as others may see it: never its password or hash."""

    id: UUID
    username: str
    created_date: datetime

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(id=user.id, username=user.username.value, created_date=user.created_date)


class TokenPair(BaseModel):
    """A session: a bearer access token for `Authorization`, and a single-use refresh token
    for `POST /auth/refresh` when the access token expires."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str

    @classmethod
    def of(cls, session: Session) -> TokenPair:
        return cls(
            access_token=session.access_token,
            expires_in=session.expires_in,
            refresh_token=session.refresh_token,
        )


class RefreshRequest(BaseModel):
    """A refresh token from the last login or refresh."""

    model_config = _REQUEST

    refresh_token: UnicodeText
