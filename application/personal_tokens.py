"""Use cases for personal access tokens: creating, listing, revoking, and checking one.

A token is checked against storage on every request (one lookup by its owner and id), so a
revoked or expired token stops working at once; nothing is cached. Its use is recorded at
most once a minute (``USE_RECORDED_EVERY``), by a conditional update in a unit of work of
its own, so a busy token does not write on every request.
"""

from __future__ import annotations

import builtins
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from application.errors import ApplicationError, NotAuthenticated
from application.ports import Clock, IdFactory, UnitOfWorkFactory
from domain.personal_tokens import (
    PersonalToken,
    Scope,
    allows,
    hash_token,
    parse_token,
    token_text,
)

__all__ = [
    "CreatedToken",
    "Grant",
    "InsufficientScope",
    "PersonalTokens",
    "TokenNotFound",
]


class InsufficientScope(ApplicationError):
    """The credential is valid but does not allow this: a personal access token without the
    scope, or one used where a login's access token is needed."""


class TokenNotFound(ApplicationError):
    """The caller has no personal access token with this id."""


@dataclass(frozen=True, slots=True)
class CreatedToken:
    """A new token and the text of it, shown this once."""

    token: PersonalToken
    text: str


@dataclass(frozen=True, slots=True)
class Grant:
    """What a checked personal access token allows: its owner, and its scopes."""

    owner_id: UUID
    token_id: UUID
    scopes: frozenset[Scope]

    def allows(self, scope: Scope) -> bool:
        return allows(self.scopes, scope)


class PersonalTokens:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, ids: IdFactory) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids

    async def create(
        self, owner_id: UUID, name: str, scopes: list[str], expires_in_days: int
    ) -> CreatedToken:
        """A new token of the owner's; ``InvalidToken`` for a name, scopes or expiry the
        rules refuse."""
        name, allowed = PersonalToken.check(name, scopes, expires_in_days)
        now = self._clock.now()
        token_id = self._ids.new_id()
        text = token_text(owner_id, token_id, secrets.token_urlsafe(32))
        token = PersonalToken(
            id=token_id,
            owner_id=owner_id,
            name=name,
            scopes=allowed,
            token_hash=hash_token(text),
            created_date=now,
            expires_date=now + timedelta(days=expires_in_days),
        )
        async with self._uow() as uow:
            await uow.personal_tokens.add(token)
            await uow.commit()
        return CreatedToken(token, text)

    async def list(self, owner_id: UUID) -> builtins.list[PersonalToken]:
        async with self._uow() as uow:
            return await uow.personal_tokens.list(owner_id)

    async def revoke(self, owner_id: UUID, token_id: UUID) -> None:
        """Revoke the token, with immediate effect; ``TokenNotFound`` if the owner has none
        with this id."""
        async with self._uow() as uow:
            if not await uow.personal_tokens.delete(owner_id, token_id):
                raise TokenNotFound(f"token {token_id} not found")
            await uow.commit()

    async def check(self, text: str) -> Grant:
        """What the presented token allows; ``NotAuthenticated`` if it is malformed,
        unknown, revoked or expired."""
        named = parse_token(text)
        if named is None:
            raise NotAuthenticated("the personal access token is malformed")
        owner_id, token_id = named
        async with self._uow() as uow:
            token = await uow.personal_tokens.get(owner_id, token_id)
        now = self._clock.now()
        if token is None or not token.matches(text) or not token.valid(now):
            raise NotAuthenticated("the personal access token is unknown, revoked or expired")
        if token.use_worth_recording(now):
            async with self._uow() as uow:
                await uow.personal_tokens.record_use(owner_id, token_id, now)
                await uow.commit()
        return Grant(owner_id, token_id, token.scopes)
