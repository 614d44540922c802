"""Refresh tokens name their user, so storage finds them among that user's tokens alone."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from uuid import UUID

import pytest

from adapters.memory import MemoryDatabase
from adapters.security import JwtAccessTokens
from adapters.system import Uuid7Factory
from application import NotAuthenticated
from application.accounts import Accounts
from domain.sessions import RefreshToken, client_token, user_of
from tests.support import ManualClock, fast_password_hasher

ALICE = UUID("01900000-0000-7000-8000-00000000a11c")


@pytest.fixture
def database() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def accounts(database: MemoryDatabase, clock: ManualClock) -> Accounts:
    return Accounts(
        database.unit_of_work,
        clock,
        Uuid7Factory(),
        fast_password_hasher(),
        JwtAccessTokens("a-test-signing-secret-of-sufficient-length", ttl=timedelta(minutes=15)),
    )


def test_a_client_token_names_its_user_and_nothing_else_does() -> None:
    token = client_token(ALICE, "s3cr3t-_x")
    assert user_of(token) == ALICE
    for malformed in (
        "s3cr3t",  # a token issued before tokens named their user
        f"{ALICE.hex}.",
        f".{ALICE.hex}",
        f"{ALICE.hex[:-1]}.secret",
        f"{ALICE.hex[:-1]}g.secret",
        f"{ALICE}.secret",  # the hyphenated form is not the one issued
        "",
    ):
        assert user_of(malformed) is None, malformed


async def test_the_issued_refresh_token_names_the_user_who_logged_in(accounts: Accounts) -> None:
    user = await accounts.register("alice", "correct horse")
    session = await accounts.log_in("alice", "correct horse")
    assert user_of(session.refresh_token) == user.id
    renewed = await accounts.refresh(session.refresh_token)
    assert user_of(renewed.refresh_token) == user.id


async def test_a_secret_presented_under_another_user_is_refused_and_spares_the_owner(
    accounts: Accounts,
) -> None:
    await accounts.register("alice", "correct horse")
    mallory = await accounts.register("mallory", "correct horse")
    session = await accounts.log_in("alice", "correct horse")
    secret = session.refresh_token.partition(".")[2]
    with pytest.raises(NotAuthenticated):
        await accounts.refresh(client_token(mallory.id, secret))
    await accounts.log_out(client_token(mallory.id, secret))
    # Alice's session was neither used nor revoked by either attempt.
    await accounts.refresh(session.refresh_token)


async def test_a_token_issued_before_tokens_named_their_user_is_refused(
    accounts: Accounts, database: MemoryDatabase, clock: ManualClock
) -> None:
    """Such a token is stored by the hash of its bare secret; it cannot be found any more,
    so its holder signs in again. Logging out with it does nothing and does not fail."""
    user = await accounts.register("alice", "correct horse")
    old_secret = "an-old-style-secret"
    async with database.unit_of_work() as uow:
        await uow.refresh_tokens.add(
            RefreshToken(
                id=Uuid7Factory().new_id(),
                user_id=user.id,
                family_id=Uuid7Factory().new_id(),
                token_hash=hashlib.sha256(old_secret.encode()).hexdigest(),
                issued_at=clock.now(),
                expires_at=clock.now() + timedelta(days=30),
            )
        )
        await uow.commit()
    with pytest.raises(NotAuthenticated):
        await accounts.refresh(old_secret)
    await accounts.log_out(old_secret)
