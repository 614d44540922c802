"""Refresh tokens: how a signed-in user stays signed in, one single-use token at a time.

Each login starts a *family*; every refresh retires the token presented and issues the
next one in the same family. A token presented a second time means two parties hold it
(one of them a thief): the whole family is revoked, so both are signed out.

The token a client holds names its user (``client_token``), so that storage finds it, and
locks it, among that user's tokens alone: on a database sharded by user, on one shard.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

__all__ = ["RefreshToken", "client_token", "user_of"]

_SEPARATOR = "."
_HEX_DIGITS = frozenset(string.hexdigits)


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshToken:
    """A refresh token as stored: only a hash of the secret the client holds."""

    id: UUID
    user_id: UUID
    family_id: UUID
    token_hash: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        """Never used, not revoked, not expired."""
        return self.used_at is None and self.revoked_at is None and now < self.expires_at

    def replayed(self) -> bool:
        """Presented again after it was used or revoked: its family must not live on."""
        return self.used_at is not None or self.revoked_at is not None

    def used(self, now: datetime) -> RefreshToken:
        return replace(self, used_at=now)


def client_token(user_id: UUID, secret: str) -> str:
    """The refresh token handed to the client: its user's id, then the secret (which must
    not contain ``.``)."""
    return f"{user_id.hex}{_SEPARATOR}{secret}"


def user_of(token: str) -> UUID | None:
    """The user a presented refresh token names, or ``None`` if it is not of that form
    (a token issued before tokens named their user, or anything else)."""
    user, separator, secret = token.partition(_SEPARATOR)
    if not separator or not secret or len(user) != 32 or not set(user) <= _HEX_DIGITS:
        return None
    return UUID(hex=user)
