"""Use cases for accounts: register, log in, refresh, log out, and who is calling.

Logging in checks the password (slowly, in a worker thread), throttles guessing per
username, and starts a session: a short-lived access token, checked on every request
without touching storage, and a single-use refresh token stored only as a hash.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from application.errors import (
    Conflict,
    InvalidCredentials,
    NotAuthenticated,
    TooManyAttempts,
    UsernameTaken,
)
from application.ports import (
    AccessTokens,
    Clock,
    IdFactory,
    PasswordHasher,
    UnitOfWork,
    UnitOfWorkFactory,
)
from domain import Password, RuleViolation, User, Username
from domain.sessions import RefreshToken, client_token, user_of

__all__ = ["Accounts", "LoginPolicy", "Session"]


@dataclass(frozen=True, slots=True)
class Session:
    """What a client gets on login or refresh."""

    access_token: str
    expires_in: int
    refresh_token: str


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How long refresh tokens live, and how many failed logins a username may have in a
    window before further attempts are refused."""

    refresh_token_ttl: timedelta = timedelta(days=30)
    max_failures: int = 5
    failure_window: timedelta = timedelta(minutes=15)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _presented(refresh_token: str) -> tuple[UUID, str] | None:
    """The user a presented refresh token names and the hash it is stored under; ``None``
    for a token that names no user (one issued before tokens did: its holder signs in
    again)."""
    user_id = user_of(refresh_token)
    return None if user_id is None else (user_id, _digest(refresh_token))


class Accounts:
    """The account use cases over storage, a password hasher and an access-token issuer."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        ids: IdFactory,
        hasher: PasswordHasher,
        tokens: AccessTokens,
        policy: LoginPolicy | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._hasher = hasher
        self._tokens = tokens
        self._policy = policy or LoginPolicy()

    async def register(self, username: str, password: str) -> User:
        """A new user; ``UsernameTaken`` if the name is in use in any letter case."""
        name, secret = Username(username), Password(password)
        async with self._uow() as uow:
            if await uow.users.get_by_username(name.key) is not None:
                raise UsernameTaken(name.value)
        user = User(
            id=self._ids.new_id(),
            username=name,
            password_hash=await self._hasher.hash(secret),
            created_date=self._clock.now(),
        )
        try:
            async with self._uow() as uow:
                await uow.users.add(user)
                await uow.commit()
        except Conflict as taken:
            raise UsernameTaken(name.value) from taken
        return user

    async def log_in(self, username: str, password: str) -> Session:
        """A new session for the user; ``InvalidCredentials`` (the same for an unknown
        username and a wrong password) or ``TooManyAttempts``."""
        key = username.lower()
        now = self._clock.now()
        policy = self._policy
        async with self._uow() as uow:
            window_start = now - policy.failure_window
            # A failure ages out exactly ``failure_window`` after it happened, which is when
            # ``retry_after`` tells the client to come back.
            recent = [
                t for t in await uow.login_failures.since(key, window_start) if t > window_start
            ]
            if len(recent) >= policy.max_failures:
                wait = recent[-policy.max_failures] + policy.failure_window - now
                raise TooManyAttempts(max(1, math.ceil(wait.total_seconds())))
            user = await self._user_for(uow, username)
        if not await self._password_matches(user, password):
            async with self._uow() as uow:
                await uow.login_failures.record(key, now, keep_since=now - policy.failure_window)
                await uow.commit()
            raise InvalidCredentials("invalid username or password")
        assert user is not None
        async with self._uow() as uow:
            if recent:
                await uow.login_failures.clear(key)
            session = await self._start(uow, user.id, family_id=self._ids.new_id())
            await uow.commit()
        return session

    async def refresh(self, refresh_token: str) -> Session:
        """The next session of the token's family, retiring the token. A token presented
        again after use revokes the whole family; ``NotAuthenticated`` in every refusal."""
        now = self._clock.now()
        presented = _presented(refresh_token)
        if presented is None:
            raise NotAuthenticated("unknown refresh token")
        async with self._uow() as uow:
            stored = await uow.refresh_tokens.get_by_hash(*presented, for_update=True)
            if stored is None:
                raise NotAuthenticated("unknown refresh token")
            if stored.replayed():
                await uow.refresh_tokens.revoke_family(stored.user_id, stored.family_id, now)
                await uow.commit()
                raise NotAuthenticated("refresh token reused; its sessions are revoked")
            if not stored.usable(now):
                raise NotAuthenticated("refresh token expired")
            await uow.refresh_tokens.save(stored.used(now))
            session = await self._start(uow, stored.user_id, family_id=stored.family_id)
            await uow.commit()
        return session

    async def log_out(self, refresh_token: str) -> None:
        """Revoke the token's family: this token and every one issued from it. An unknown
        token is ignored, so logging out twice is harmless."""
        presented = _presented(refresh_token)
        if presented is None:
            return
        async with self._uow() as uow:
            stored = await uow.refresh_tokens.get_by_hash(*presented, for_update=True)
            if stored is not None:
                await uow.refresh_tokens.revoke_family(
                    stored.user_id, stored.family_id, self._clock.now()
                )
                await uow.commit()

    def authenticate(self, access_token: str) -> UUID:
        """The id of the user the access token speaks for; ``NotAuthenticated`` otherwise.
        Touches no storage."""
        return self._tokens.verify(access_token, self._clock.now())

    async def get_user(self, user_id: UUID) -> User:
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise NotAuthenticated("the user no longer exists")
        return user

    @staticmethod
    async def _user_for(uow: UnitOfWork, username: str) -> User | None:
        try:
            key = Username(username).key
        except RuleViolation:
            return None
        return await uow.users.get_by_username(key)

    async def _password_matches(self, user: User | None, password: str) -> bool:
        try:
            secret = Password(password)
        except RuleViolation:
            secret = Password("x" * 8)
            user = None
        if user is None:
            await self._hasher.verify_nothing(secret)
            return False
        return await self._hasher.verify(user.password_hash, secret)

    async def _start(self, uow: UnitOfWork, user_id: UUID, *, family_id: UUID) -> Session:
        now = self._clock.now()
        secret = client_token(user_id, secrets.token_urlsafe(32))
        await uow.refresh_tokens.add(
            RefreshToken(
                id=self._ids.new_id(),
                user_id=user_id,
                family_id=family_id,
                token_hash=_digest(secret),
                issued_at=now,
                expires_at=now + self._policy.refresh_token_ttl,
            )
        )
        access = self._tokens.issue(user_id, now)
        return Session(
            access_token=access.token, expires_in=access.expires_in, refresh_token=secret
        )
