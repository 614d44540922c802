"""The contract of the account repositories, on every backend."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest

from adapters.system import Uuid7Factory
from application import Conflict, UnitOfWorkFactory
from domain import User, Username
from domain.sessions import RefreshToken
from tests.support import START

_ids = Uuid7Factory()


def make_user(name: str = "Alice") -> User:
    return User(
        id=_ids.new_id(), username=Username(name), password_hash="$argon2id$x", created_date=START
    )


def make_token(user: User, family: object = None, secret: str = "s") -> RefreshToken:
    return RefreshToken(
        id=_ids.new_id(),
        user_id=user.id,
        family_id=family or _ids.new_id(),  # type: ignore[arg-type]
        token_hash=hashlib.sha256(f"{secret}{_ids.new_id()}".encode()).hexdigest(),
        issued_at=START,
        expires_at=START + timedelta(days=30),
    )


async def _with_user(uow_factory: UnitOfWorkFactory, name: str = "Alice") -> User:
    user = make_user(name)
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


async def _stored_token(uow_factory: UnitOfWorkFactory) -> RefreshToken:
    """A committed refresh token of a new user."""
    token = make_token(await _with_user(uow_factory))
    async with uow_factory() as uow:
        await uow.refresh_tokens.add(token)
        await uow.commit()
    return token


async def test_a_user_comes_back_by_id_and_by_case_insensitive_name(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = await _with_user(uow_factory, "Alice.B-c_9")
    async with uow_factory() as uow:
        by_id = await uow.users.get(user.id)
        by_name = await uow.users.get_by_username("alice.b-c_9")
        assert await uow.users.get_by_username("Alice.B-c_9") is None  # keys are lower-case
    assert by_id is not None
    assert by_name is not None
    assert (by_id.username.value, by_id.password_hash, by_id.created_date) == (
        "Alice.B-c_9",
        "$argon2id$x",
        START,
    )
    assert by_name.id == user.id


async def test_a_username_is_taken_in_every_letter_case(uow_factory: UnitOfWorkFactory) -> None:
    await _with_user(uow_factory, "alice")
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.users.add(make_user("ALICE"))
            await uow.commit()


async def test_two_concurrent_registrations_of_one_name_let_one_through(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async def register(name: str) -> str:
        try:
            async with uow_factory() as uow:
                await uow.users.add(make_user(name))
                await asyncio.sleep(0.02)
                await uow.commit()
        except Conflict:
            return "conflict"
        return "created"

    outcomes = await asyncio.gather(register("bob"), register("Bob"))
    assert sorted(outcomes) == ["conflict", "created"]


async def test_refresh_tokens_are_found_by_hash_and_keep_their_state(
    uow_factory: UnitOfWorkFactory,
) -> None:
    token = await _stored_token(uow_factory)
    async with uow_factory() as uow:
        loaded = await uow.refresh_tokens.get_by_hash(
            token.user_id, token.token_hash, for_update=True
        )
        assert loaded == token
        await uow.refresh_tokens.save(token.used(START + timedelta(minutes=1)))
        await uow.commit()
    async with uow_factory() as uow:
        used = await uow.refresh_tokens.get_by_hash(token.user_id, token.token_hash)
        assert await uow.refresh_tokens.get_by_hash(token.user_id, "0" * 64) is None
    assert used is not None
    assert used.used_at == START + timedelta(minutes=1)
    assert used.revoked_at is None


async def test_revoking_a_family_spares_the_others(uow_factory: UnitOfWorkFactory) -> None:
    user = await _with_user(uow_factory)
    family = _ids.new_id()
    doomed = [make_token(user, family, f"d{i}") for i in range(3)]
    spared = make_token(user)
    later = START + timedelta(hours=1)
    async with uow_factory() as uow:
        for token in (*doomed, spared):
            await uow.refresh_tokens.add(token)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.refresh_tokens.revoke_family(user.id, family, later)
        await uow.commit()
    async with uow_factory() as uow:
        states = [
            await uow.refresh_tokens.get_by_hash(t.user_id, t.token_hash) for t in (*doomed, spared)
        ]
    assert [s.revoked_at if s else "missing" for s in states] == [later, later, later, None]


async def test_a_token_locked_for_update_makes_the_next_reader_wait(
    uow_factory: UnitOfWorkFactory,
) -> None:
    token = await _stored_token(uow_factory)
    async with uow_factory() as first:
        assert (
            await first.refresh_tokens.get_by_hash(token.user_id, token.token_hash, for_update=True)
            is not None
        )

        async def second() -> RefreshToken | None:
            async with uow_factory() as uow:
                return await uow.refresh_tokens.get_by_hash(
                    token.user_id, token.token_hash, for_update=True
                )

        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await first.refresh_tokens.save(token.used(START))
        await first.commit()
    seen = await waiting
    assert seen is not None
    assert seen.used_at == START


async def test_login_failures_are_counted_in_a_window_and_cleared(
    uow_factory: UnitOfWorkFactory,
) -> None:
    moments = [START + timedelta(minutes=m) for m in (0, 10, 20, 21)]
    async with uow_factory() as uow:
        for moment in moments:
            await uow.login_failures.record(
                "alice", moment, keep_since=moment - timedelta(minutes=15)
            )
        await uow.login_failures.record("bob", START, keep_since=START)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.login_failures.since("alice", START + timedelta(minutes=6)) == moments[1:]
        assert await uow.login_failures.since("alice", START - timedelta(days=1)) == moments[1:]
        await uow.login_failures.clear("alice")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.login_failures.since("alice", START - timedelta(days=1)) == []
        assert await uow.login_failures.since("bob", START) == [START]
