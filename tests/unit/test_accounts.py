"""The account use cases on the in-memory adapter, with real Argon2id and real JWTs."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import jwt
import pytest

from adapters.memory import MemoryDatabase
from adapters.security import JwtAccessTokens
from adapters.system import Uuid7Factory
from application import (
    InvalidCredentials,
    NotAuthenticated,
    TooManyAttempts,
    UsernameTaken,
)
from application.accounts import Accounts, LoginPolicy
from domain import InvalidPassword, InvalidUsername
from tests.support import ManualClock, fast_password_hasher

SECRET = "a-test-signing-secret-of-sufficient-length"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def accounts(clock: ManualClock) -> Accounts:
    return Accounts(
        MemoryDatabase().unit_of_work,
        clock,
        Uuid7Factory(),
        fast_password_hasher(),
        JwtAccessTokens(SECRET, ttl=timedelta(minutes=15)),
        LoginPolicy(max_failures=5, failure_window=timedelta(minutes=15)),
    )


async def test_register_then_log_in_gives_a_token_for_that_user(accounts: Accounts) -> None:
    user = await accounts.register("Alice", "correct horse")
    session = await accounts.log_in("alice", "correct horse")
    assert accounts.authenticate(session.access_token) == user.id
    assert session.expires_in == 900
    assert session.refresh_token
    assert (await accounts.get_user(user.id)).username.value == "Alice"


async def test_the_password_is_stored_only_as_an_argon2id_hash(accounts: Accounts) -> None:
    user = await accounts.register("alice", "correct horse")
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash


async def test_a_username_is_taken_in_any_letter_case(accounts: Accounts) -> None:
    await accounts.register("alice", "correct horse")
    with pytest.raises(UsernameTaken):
        await accounts.register("ALICE", "another password")


@pytest.mark.parametrize("name", ["ab", "x" * 51, "has space", "ünï", "semi;colon"])
async def test_usernames_follow_the_rules(accounts: Accounts, name: str) -> None:
    with pytest.raises(InvalidUsername):
        await accounts.register(name, "correct horse")


@pytest.mark.parametrize("password", ["short", "x" * 129])
async def test_passwords_are_8_to_128_characters(accounts: Accounts, password: str) -> None:
    with pytest.raises(InvalidPassword):
        await accounts.register("alice", password)


async def test_the_password_edges_are_accepted(accounts: Accounts) -> None:
    await accounts.register("eight", "x" * 8)
    await accounts.register("long", "x" * 128)


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice", "wrong password"),
        ("nobody", "correct horse"),
        ("a", "correct horse"),
        ("alice", ""),
    ],
)
async def test_wrong_password_and_unknown_user_are_the_same_failure(
    accounts: Accounts, username: str, password: str
) -> None:
    await accounts.register("alice", "correct horse")
    with pytest.raises(InvalidCredentials) as caught:
        await accounts.log_in(username, password)
    assert str(caught.value) == "invalid username or password"


async def test_five_failures_lock_the_username_for_the_rest_of_the_window(
    accounts: Accounts, clock: ManualClock
) -> None:
    await accounts.register("alice", "correct horse")
    await accounts.register("bob", "correct horse")
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await accounts.log_in("alice", "wrong password")
        clock.advance(timedelta(minutes=1))
    with pytest.raises(TooManyAttempts) as caught:
        await accounts.log_in("alice", "correct horse")
    # The oldest of the five failures leaves the window 15 minutes after it happened.
    assert caught.value.retry_after == 10 * 60
    await accounts.log_in("bob", "correct horse")
    clock.advance(timedelta(minutes=10))
    await accounts.log_in("alice", "correct horse")


async def test_a_successful_login_forgets_earlier_failures(accounts: Accounts) -> None:
    await accounts.register("alice", "correct horse")
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            await accounts.log_in("alice", "wrong password")
    await accounts.log_in("alice", "correct horse")
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            await accounts.log_in("alice", "wrong password")
    await accounts.log_in("alice", "correct horse")


async def test_unknown_usernames_are_throttled_too(accounts: Accounts) -> None:
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await accounts.log_in("ghost", "whatever1")
    with pytest.raises(TooManyAttempts):
        await accounts.log_in("ghost", "whatever1")


async def test_a_refresh_token_works_once_and_its_replay_revokes_the_family(
    accounts: Accounts,
) -> None:
    user = await accounts.register("alice", "correct horse")
    first = await accounts.log_in("alice", "correct horse")
    second = await accounts.refresh(first.refresh_token)
    assert accounts.authenticate(second.access_token) == user.id
    assert second.refresh_token != first.refresh_token
    with pytest.raises(NotAuthenticated):
        await accounts.refresh(first.refresh_token)
    # The replay revoked the family: the token issued from it is dead too.
    with pytest.raises(NotAuthenticated):
        await accounts.refresh(second.refresh_token)


async def test_a_replay_leaves_other_sessions_alone(accounts: Accounts) -> None:
    await accounts.register("alice", "correct horse")
    phone = await accounts.log_in("alice", "correct horse")
    laptop = await accounts.log_in("alice", "correct horse")
    await accounts.refresh(phone.refresh_token)
    with pytest.raises(NotAuthenticated):
        await accounts.refresh(phone.refresh_token)
    await accounts.refresh(laptop.refresh_token)


async def test_two_concurrent_refreshes_with_one_token_leave_the_family_revoked(
    accounts: Accounts,
) -> None:
    await accounts.register("alice", "correct horse")
    session = await accounts.log_in("alice", "correct horse")
    outcomes = await asyncio.gather(
        accounts.refresh(session.refresh_token),
        accounts.refresh(session.refresh_token),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(winners) == 1
    with pytest.raises(NotAuthenticated):
        await accounts.refresh(winners[0].refresh_token)


async def test_log_out_revokes_the_token_and_its_descendants(accounts: Accounts) -> None:
    await accounts.register("alice", "correct horse")
    first = await accounts.log_in("alice", "correct horse")
    second = await accounts.refresh(first.refresh_token)
    await accounts.log_out(first.refresh_token)
    with pytest.raises(NotAuthenticated):
        await accounts.refresh(second.refresh_token)
    await accounts.log_out(second.refresh_token)
    await accounts.log_out("never issued")


async def test_refresh_tokens_expire(accounts: Accounts, clock: ManualClock) -> None:
    await accounts.register("alice", "correct horse")
    session = await accounts.log_in("alice", "correct horse")
    clock.advance(timedelta(days=30))
    with pytest.raises(NotAuthenticated):
        await accounts.refresh(session.refresh_token)


async def test_unknown_refresh_tokens_are_refused(accounts: Accounts) -> None:
    with pytest.raises(NotAuthenticated):
        await accounts.refresh("made-up")


async def test_access_tokens_expire_after_their_lifetime(
    accounts: Accounts, clock: ManualClock
) -> None:
    await accounts.register("alice", "correct horse")
    session = await accounts.log_in("alice", "correct horse")
    clock.advance(timedelta(minutes=14, seconds=59))
    accounts.authenticate(session.access_token)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(session.access_token)


async def test_tampered_forged_and_malformed_access_tokens_are_refused(accounts: Accounts) -> None:
    await accounts.register("alice", "correct horse")
    session = await accounts.log_in("alice", "correct horse")
    header, payload, signature = session.access_token.split(".")
    claims = jwt.decode(session.access_token, options={"verify_signature": False})
    forged_claims = {**claims, "sub": "00000000-0000-7000-8000-000000000000"}
    for bad in (
        f"{header}.{payload}.{signature[:-2]}AA",
        jwt.encode(forged_claims, "another-secret-entirely-of-some-length", algorithm="HS256"),
        jwt.encode(claims, "", algorithm="none"),
        "not-a-jwt",
        "",
        session.refresh_token,
    ):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate(bad)
