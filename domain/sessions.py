"""Refresh tokens: how a signed-in user stays signed in, one single-use token at a time.

Each login starts a *family*; every refresh retires the token presented and issues the
next one in the same family. A token presented a second time means two parties hold it
(one of them a thief): the whole family is revoked, so both are signed out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

__all__ = ["RefreshToken"]


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
