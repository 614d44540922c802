"""The contract of bulk adds and idempotency keys, on every backend."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from application import Conflict, UnitOfWorkFactory
from application.idempotency import IdempotencyRecord
from tests.support import ALICE, BOB, START, make_note


def _record(
    key: str = "k1", owner: object = ALICE, expires: timedelta = timedelta(hours=24)
) -> IdempotencyRecord:
    return IdempotencyRecord(
        owner_id=owner,  # type: ignore[arg-type]
        key=key,
        fingerprint="f" * 64,
        result="[]",
        created_at=START,
        expires_at=START + expires,
    )


async def test_add_many_stores_every_note(uow_factory: UnitOfWorkFactory) -> None:
    batch = [make_note(f"n{i}", created=START + timedelta(seconds=i)) for i in range(1500)]
    async with uow_factory() as uow:
        await uow.notes.add_many(batch)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.notes.list(ALICE, limit=2000)
    assert [n.id for n in stored] == [n.id for n in reversed(batch)]


async def test_add_many_with_a_taken_id_stores_nothing(uow_factory: UnitOfWorkFactory) -> None:
    existing = make_note("existing")
    async with uow_factory() as uow:
        await uow.notes.add(existing)
        await uow.commit()
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.notes.add_many([make_note("new"), make_note("dup", note_id=existing.id)])
            await uow.commit()
    async with uow_factory() as uow:
        assert [n.title.value for n in await uow.notes.list(ALICE, limit=10)] == ["existing"]


async def test_a_key_is_claimed_once_per_owner(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.idempotency_keys.claim(_record()) is None
        await uow.commit()
    async with uow_factory() as uow:
        earlier = await uow.idempotency_keys.claim(_record())
        assert await uow.idempotency_keys.claim(_record(owner=BOB)) is None
    assert earlier == _record()


async def test_an_uncommitted_claim_is_forgotten(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.idempotency_keys.claim(_record()) is None
    async with uow_factory() as uow:
        assert await uow.idempotency_keys.claim(_record()) is None


async def test_a_concurrent_claim_waits_and_then_sees_the_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as first:
        assert await first.idempotency_keys.claim(_record()) is None

        async def second() -> IdempotencyRecord | None:
            async with uow_factory() as uow:
                return await uow.idempotency_keys.claim(_record())

        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await first.commit()
    assert await waiting == _record()


async def test_expired_keys_are_forgotten(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.idempotency_keys.claim(_record("old", expires=timedelta(hours=1)))
        await uow.idempotency_keys.claim(_record("fresh", expires=timedelta(hours=48)))
        await uow.idempotency_keys.claim(_record("bobs", owner=BOB, expires=timedelta(hours=1)))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.idempotency_keys.forget_expired(ALICE, START + timedelta(hours=24))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.idempotency_keys.claim(_record("old")) is None
        assert await uow.idempotency_keys.claim(_record("fresh")) is not None
        assert await uow.idempotency_keys.claim(_record("bobs", owner=BOB)) is not None
