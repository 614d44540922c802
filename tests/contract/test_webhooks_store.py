"""The contract of the webhook repository, on every backend: webhooks and their recorded
deliveries, scoped to their owner; the delivery state saved only under the lease's token."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from adapters.system import Uuid7Factory
from application import UnitOfWorkFactory
from application.webhook_ports import Claim, DeliveryState
from domain.webhooks import Delivery, Webhook, WebhookEvents, WebhookUrl
from tests.owner_rule import SERVICE_STATEMENTS
from tests.support import ALICE, BOB, START

_ids = Uuid7Factory()


def make_webhook(owner_id: UUID = ALICE, url: str = "https://example.com/hooks") -> Webhook:
    return Webhook(
        id=_ids.new_id(),
        owner_id=owner_id,
        url=WebhookUrl(url),
        events=WebhookEvents.of(["note.created", "note.deleted"]),
        secret_seed=b"\x00\xff" * 16,
        created_date=START,
    )


def make_delivery(webhook: Webhook, attempt: int = 1, status: int | None = 200) -> Delivery:
    return Delivery(
        owner_id=webhook.owner_id,
        webhook_id=webhook.id,
        id=_ids.new_id(),
        event_id=_ids.new_id(),
        seq=attempt,
        attempt=attempt,
        at=START + timedelta(seconds=attempt),
        status_code=status,
        error=None if status else "no answer within 10 s",
    )


async def test_a_webhook_is_stored_as_it_was_given_and_seen_by_its_owner_only(
    uow_factory: UnitOfWorkFactory,
) -> None:
    webhook, other = make_webhook(), make_webhook(BOB)
    async with uow_factory() as uow:
        await uow.webhooks.add(webhook)
        await uow.webhooks.add(other)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.webhooks.list(ALICE) == [webhook]
        stored = await uow.webhooks.get(ALICE, webhook.id)
        assert await uow.webhooks.get(BOB, webhook.id) is None
        assert await uow.webhooks.list(BOB) == [other]
    assert stored == webhook
    assert stored.secret_seed == webhook.secret_seed
    assert stored.events.values == ("note.created", "note.deleted")


async def test_a_webhook_not_committed_is_not_stored(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.webhooks.add(make_webhook())
    async with uow_factory() as uow:
        assert await uow.webhooks.list(ALICE) == []


async def test_deliveries_are_listed_newest_first_and_only_the_latest_are_kept(
    uow_factory: UnitOfWorkFactory,
) -> None:
    webhook, other = make_webhook(), make_webhook()
    async with uow_factory() as uow:
        await uow.webhooks.add(webhook)
        await uow.webhooks.add(other)
        await uow.webhooks.record(make_delivery(other))
        for attempt in range(1, 106):
            await uow.webhooks.record(make_delivery(webhook, attempt, 500 if attempt % 2 else 200))
        await uow.commit()
    async with uow_factory() as uow:
        listed = await uow.webhooks.deliveries(ALICE, webhook.id, limit=500)
        assert await uow.webhooks.deliveries(BOB, webhook.id, limit=500) == []
        assert len(await uow.webhooks.deliveries(ALICE, other.id, limit=500)) == 1
    assert [d.attempt for d in listed] == list(range(105, 5, -1))
    assert listed[0].status_code == 500
    assert not listed[0].succeeded
    assert listed[1].succeeded


async def test_attempts_recorded_together_are_kept_as_if_recorded_one_by_one(
    uow_factory: UnitOfWorkFactory,
) -> None:
    webhook, other = make_webhook(), make_webhook(BOB)
    async with uow_factory() as uow:
        await uow.webhooks.add(webhook)
        await uow.webhooks.add(other)
        await uow.webhooks.record(*(make_delivery(webhook, attempt) for attempt in range(1, 61)))
        await uow.webhooks.record()
        await uow.commit()
    async with uow_factory() as uow:
        await uow.webhooks.record(
            *(make_delivery(webhook, attempt, None) for attempt in range(61, 106)),
            make_delivery(other),
        )
        await uow.commit()
    async with uow_factory() as uow:
        listed = await uow.webhooks.deliveries(ALICE, webhook.id, limit=500)
        others = await uow.webhooks.deliveries(BOB, other.id, limit=500)
    assert [d.attempt for d in listed] == list(range(105, 5, -1))
    assert listed[0].error == "no answer within 10 s"
    assert listed[-1].status_code == 200
    assert len(others) == 1


async def test_deleting_a_webhook_deletes_its_deliveries_and_only_for_its_owner(
    uow_factory: UnitOfWorkFactory,
) -> None:
    webhook = make_webhook()
    async with uow_factory() as uow:
        await uow.webhooks.add(webhook)
        await uow.webhooks.record(make_delivery(webhook))
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.webhooks.delete(BOB, webhook.id)
        assert await uow.webhooks.delete(ALICE, webhook.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.webhooks.get(ALICE, webhook.id) is None
        assert await uow.webhooks.deliveries(ALICE, webhook.id, limit=10) == []
        assert not await uow.webhooks.delete(ALICE, webhook.id)


async def test_the_delivery_state_is_saved_only_under_the_lease_s_token(
    uow_factory: UnitOfWorkFactory,
) -> None:
    webhook = make_webhook()
    async with uow_factory() as uow:
        await uow.webhooks.add(webhook)
        await uow.commit()
    async with uow_factory() as uow:
        state = DeliveryState(cursor=3)
        assert not await uow.webhooks.save(ALICE, webhook.id, _ids.new_id(), state, until=None)
        assert not await uow.webhooks.save(BOB, webhook.id, _ids.new_id(), state, until=None)


@pytest.mark.parametrize("error", ["x" * 1000])
async def test_a_long_error_is_cut_to_what_the_storage_keeps(
    uow_factory: UnitOfWorkFactory, error: str
) -> None:
    webhook = make_webhook()
    delivery = make_delivery(webhook, status=None)
    async with uow_factory() as uow:
        await uow.webhooks.add(webhook)
        await uow.webhooks.record(replace(delivery, error=error))
        await uow.commit()
    async with uow_factory() as uow:
        (stored,) = await uow.webhooks.deliveries(ALICE, webhook.id, limit=10)
    assert stored.error is not None
    assert error.startswith(stored.error)


async def _add_event(uow_factory: UnitOfWorkFactory, owner_id: UUID) -> None:
    async with uow_factory() as uow:
        await uow.events.append(owner_id, _ids.new_id(), "created", 1, START)
        await uow.commit()


async def _claim(
    uow_factory: UnitOfWorkFactory, now: datetime, token: UUID, limit: int = 10
) -> list[Claim]:
    # The delivery workers' lease across owners: a maintenance query, outside the
    # per-request owner rule (like the retention sweep).
    with SERVICE_STATEMENTS.paused():
        async with uow_factory() as uow:
            claims = await uow.webhooks.claim(now, now + LEASE, token, limit=limit)
            await uow.commit()
    return claims


LEASE = timedelta(seconds=60)


async def test_a_webhook_starts_after_its_owner_s_events_and_is_claimed_when_one_follows(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _add_event(uow_factory, ALICE)
    webhook = make_webhook()
    async with uow_factory() as uow:
        await uow.webhooks.add(webhook)
        await uow.commit()
    assert await _claim(uow_factory, START, _ids.new_id()) == []
    await _add_event(uow_factory, BOB)
    assert await _claim(uow_factory, START, _ids.new_id()) == []
    await _add_event(uow_factory, ALICE)
    token = _ids.new_id()
    (claim,) = await _claim(uow_factory, START, token)
    assert (claim.webhook, claim.state.cursor, claim.token) == (webhook, 1, token)


async def test_a_leased_webhook_is_not_claimed_again_until_its_lease_ends_or_is_released(
    uow_factory: UnitOfWorkFactory,
) -> None:
    webhook = make_webhook()
    async with uow_factory() as uow:
        await uow.webhooks.add(webhook)
        await uow.commit()
    await _add_event(uow_factory, ALICE)
    first = _ids.new_id()
    assert len(await _claim(uow_factory, START, first)) == 1
    assert await _claim(uow_factory, START + LEASE / 2, _ids.new_id()) == []
    async with uow_factory() as uow:  # renewed, with the event done
        done = DeliveryState(cursor=1)
        assert await uow.webhooks.save(ALICE, webhook.id, first, done, until=START + LEASE * 2)
        await uow.commit()
    await _add_event(uow_factory, ALICE)
    assert await _claim(uow_factory, START + LEASE * 3 / 2, _ids.new_id()) == []
    (taken,) = await _claim(uow_factory, START + LEASE * 3, second := _ids.new_id())
    assert taken.state.cursor == 1
    async with uow_factory() as uow:  # the first worker lost its lease
        assert not await uow.webhooks.save(ALICE, webhook.id, first, done, until=None)
        retry = START + LEASE * 4
        failed = DeliveryState(cursor=1, attempts=1, first_failed_at=START, retry_at=retry)
        assert await uow.webhooks.save(ALICE, webhook.id, second, failed, until=None)
        await uow.commit()
    assert await _claim(uow_factory, retry - timedelta(seconds=1), _ids.new_id()) == []
    (again,) = await _claim(uow_factory, retry, _ids.new_id())
    assert again.state == failed


async def test_concurrent_claims_never_lease_the_same_webhook(
    uow_factory: UnitOfWorkFactory,
) -> None:
    hooks = [make_webhook(owner) for owner in (ALICE, BOB) for _ in range(5)]
    async with uow_factory() as uow:
        for webhook in hooks:
            await uow.webhooks.add(webhook)
        await uow.commit()
    await _add_event(uow_factory, ALICE)
    await _add_event(uow_factory, BOB)
    claimed = await asyncio.gather(
        *(_claim(uow_factory, START, _ids.new_id(), limit=3) for _ in range(6))
    )
    ids = [claim.webhook.id for claims in claimed for claim in claims]
    assert sorted(ids) == sorted(w.id for w in hooks)
