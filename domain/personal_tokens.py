"""Personal access tokens: credentials for programs, with scopes and an expiry.

The token a program holds is ``nst_`` followed by its owner's id, its own id (hex) and a
random secret: storage finds it by ``(owner, id)`` and keeps only a hash of the whole token.
"""

from __future__ import annotations

import hashlib
import hmac
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, get_args
from uuid import UUID

from domain.errors import RuleViolation

__all__ = [
    "MAX_TOKEN_DAYS",
    "MAX_TOKEN_NAME",
    "PREFIX",
    "SCOPES",
    "USE_RECORDED_EVERY",
    "InvalidToken",
    "PersonalToken",
    "Scope",
    "allows",
    "hash_token",
    "is_personal_token",
    "parse_token",
    "token_text",
]

Scope = Literal["notes:read", "notes:write"]
SCOPES: Final[tuple[Scope, ...]] = get_args(Scope)
PREFIX: Final = "nst_"
MAX_TOKEN_NAME: Final = 100
MAX_TOKEN_DAYS: Final = 365
USE_RECORDED_EVERY: Final = timedelta(minutes=1)
"""``last_used_date`` is written at most this often per token."""
_HEX: Final = frozenset(string.hexdigits.lower())


class InvalidToken(RuleViolation):
    """A token request that breaks a rule: name, scopes or expiry."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonalToken:
    """A personal access token as stored: never the token itself, only its hash."""

    id: UUID
    owner_id: UUID
    name: str
    scopes: frozenset[Scope]
    token_hash: str
    created_date: datetime
    expires_date: datetime
    last_used_date: datetime | None = None

    @staticmethod
    def check(name: str, scopes: list[str], expires_in_days: int) -> tuple[str, frozenset[Scope]]:
        """The name (trimmed) and scopes of a new token; ``InvalidToken`` if one breaks a
        rule."""
        name = name.strip()
        if not 1 <= len(name) <= MAX_TOKEN_NAME:
            raise InvalidToken(f"a token's name is 1 to {MAX_TOKEN_NAME} characters")
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise InvalidToken(f"scopes are one or more of {', '.join(SCOPES)}")
        if not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
            raise InvalidToken(f"a token expires in 1 to {MAX_TOKEN_DAYS} days")
        return name, frozenset(s for s in SCOPES if s in scopes)

    def valid(self, now: datetime) -> bool:
        return now < self.expires_date

    def allows(self, scope: Scope) -> bool:
        return allows(self.scopes, scope)

    def use_worth_recording(self, now: datetime) -> bool:
        """Whether a use at ``now`` should be written (at most once per
        ``USE_RECORDED_EVERY``)."""
        return self.last_used_date is None or now - self.last_used_date >= USE_RECORDED_EVERY

    def matches(self, token: str) -> bool:
        """Whether ``token`` is this one (constant-time comparison of hashes)."""
        return hmac.compare_digest(self.token_hash, hash_token(token))


def allows(scopes: frozenset[Scope], scope: Scope) -> bool:
    """Whether a token with ``scopes`` may do what ``scope`` names: writing implies reading
    (a write answers with the note it wrote)."""
    return scope in scopes or (scope == "notes:read" and "notes:write" in scopes)


def token_text(owner_id: UUID, token_id: UUID, secret: str) -> str:
    """The token handed to the program, once."""
    return f"{PREFIX}{owner_id.hex}{token_id.hex}{secret}"


def parse_token(token: str) -> tuple[UUID, UUID] | None:
    """The owner and id a presented token names; ``None`` if it is not of that form."""
    if not token.startswith(PREFIX) or len(token) < len(PREFIX) + 64 + 16:
        return None
    ids = token[len(PREFIX) : len(PREFIX) + 64]
    if not set(ids) <= _HEX:
        return None
    return UUID(hex=ids[:32]), UUID(hex=ids[32:])


def hash_token(token: str) -> str:
    """SHA-256 of the token, hex: the secret is random and long, so a fast hash suffices."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_personal_token(token: str) -> bool:
    return token.startswith(PREFIX)
