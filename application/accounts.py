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
from datetime import datetime, timedelta
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
    CommonPasswords,
    IdFactory,
    PasswordHasher,
    UnitOfWork,
    UnitOfWorkFactory,
)
from application.throttle import AddressLimiter
from domain import InvalidPassword, Password, RuleViolation, User, Username
from domain.sessions import RefreshToken, client_token, user_of

__all__ = ["Accounts", "LoginPolicy", "Session", "login_key"]


@dataclass(frozen=True, slots=True)
class Session:
    """What a client gets on login or refresh."""

    access_token: str
    expires_in: int
    refresh_token: str


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How long refresh tokens live, and how many failed logins a username may have in a
    window before further attempts are refused: ``max_failures`` from one client address,
    ``max_failures_per_username`` from all of them."""

    refresh_token_ttl: timedelta = timedelta(days=30)
    max_failures: int = 5
    failure_window: timedelta = timedelta(minutes=15)
    max_failures_per_username: int = 20
    max_attempts_per_address: int = 100
    """Failed logins and registrations per client address in the window, in one process."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _presented(refresh_token: str) -> tuple[UUID, str] | None:
    """The user a presented refresh token names and the hash it is stored under; ``None``
    for a token that names no user (one issued before tokens did: its holder signs in
    again)."""
    user_id = user_of(refresh_token)
    return None if user_id is None else (user_id, _digest(refresh_token))


def login_key(username: str) -> str:
    """What failed logins of ``username`` are counted under: its ``Username.key``, or for a
    name no user can have (too long, NUL, not Unicode…) a fixed-size digest of it, so that
    those are counted too, under a key no real username has."""
    try:
        return Username(username).key
    except RuleViolation:
        raw = username.encode("utf-8", "surrogatepass") if isinstance(username, str) else b""
        return "~" + hashlib.sha256(raw).hexdigest()[:40]


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
        common_passwords: CommonPasswords | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._hasher = hasher
        self._tokens = tokens
        self._policy = policy or LoginPolicy()
        self._common = common_passwords
        self._addresses = AddressLimiter(
            self._policy.max_attempts_per_address, self._policy.failure_window
        )

    async def register(self, username: str, password: str, *, client: str = "") -> User:
        """A new user; ``UsernameTaken`` if the name is in use in any letter case,
        ``InvalidPassword`` for one of the most common passwords, ``TooManyAttempts`` when
        the client address made too many attempts lately."""
        self._addresses.check(client, self._clock.now())
        name, secret = Username(username), Password(password)
        if self._common is not None and self._common.is_common(secret):
            raise InvalidPassword("is one of the most common passwords; choose another")
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
        self._addresses.count(client, self._clock.now())
        return user

    async def log_in(self, username: str, password: str, *, client: str = "") -> Session:
        """A new session for the user; ``InvalidCredentials`` (the same for an unknown or
        impossible username and a wrong password) or ``TooManyAttempts``.

        The attempt is recorded, and committed, before the password is checked, and counted
        again after: the k-th attempt to commit sees at least k attempts, so at most
        ``max_failures`` attempts per username and client address, and
        ``max_failures_per_username`` per username, are ever checked in a window, however
        many run at once in however many processes. A success forgets the username's
        failures from this client address; every other outcome leaves the attempt counted
        as a failure.
        """
        key = login_key(username)
        now = self._clock.now()
        self._addresses.check(client, now)
        window_start = now - self._policy.failure_window
        # Refused attempts are not recorded, so hammering a locked username costs a read.
        async with self._uow() as uow:
            earlier = await uow.login_failures.attempts(key, window_start)
        self._refuse_if_throttled(earlier, client, now)
        # A unit of work that only writes: SQLite would refuse to turn a reading
        # transaction into a writing one while others write.
        async with self._uow() as uow:
            await uow.login_failures.record(key, now, keep_since=window_start, client=client)
            await uow.commit()
        async with self._uow() as uow:
            attempts = await uow.login_failures.attempts(key, window_start)
            user = await self._user_for(uow, username)
        self._refuse_if_throttled(attempts, client, now, counted=True)
        if not await self._password_matches(user, password):
            self._addresses.count(client, self._clock.now())
            raise InvalidCredentials("invalid username or password")
        assert user is not None
        async with self._uow() as uow:
            # Only this address's failures: those from others still count against the
            # username, so a victim's login does not give a guesser a fresh allowance.
            await uow.login_failures.clear(key, client=client)
            session = await self._start(uow, user.id, family_id=self._ids.new_id())
            await uow.commit()
        return session

    def _refuse_if_throttled(
        self,
        attempts: list[tuple[datetime, str]],
        client: str,
        now: datetime,
        *,
        counted: bool = False,
    ) -> None:
        """``TooManyAttempts`` when ``attempts`` (ours among them when ``counted``) leave no
        room for one more checked attempt. A failure ages out exactly ``failure_window``
        after it happened, which is when ``retry_after`` tells the client to come back."""
        policy = self._policy
        window_start = now - policy.failure_window
        recent = [at for at, _ in attempts if at > window_start]
        mine = [at for at, address in attempts if at > window_start and address == client]
        extra = 0 if counted else 1
        for moments, limit in (
            (recent, policy.max_failures_per_username),
            (mine, policy.max_failures),
        ):
            if len(moments) + extra > limit:
                oldest_counted = sorted(moments)[-limit] if limit <= len(moments) else now
                wait = oldest_counted + policy.failure_window - now
                raise TooManyAttempts(max(1, math.ceil(wait.total_seconds())))

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
