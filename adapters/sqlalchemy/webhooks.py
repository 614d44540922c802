"""The SQL repository of webhooks and their delivery attempts.

Every statement filters by the owner, except ``claim``: the delivery workers' lease across
owners, a maintenance query like the retention sweep's. It is one ``UPDATE`` over a
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that concurrent workers each take
other webhooks without waiting for each other; on SQLite the same statement runs under the
database's write lock, which serialises the claims. MySQL updates no table that a subquery
of the same statement reads, and returns nothing from an ``UPDATE``: there the claim is the
``SELECT … FOR UPDATE SKIP LOCKED`` of the keys, their ``UPDATE``, then a read of the rows
it leased, all in one transaction; a delivery's record reads the oldest attempt kept before
deleting the older ones.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import note_event_heads
from adapters.sqlalchemy.webhook_tables import MAX_ERROR_LENGTH, webhook_deliveries, webhooks
from application.webhook_ports import Claim, DeliveryState
from domain.webhooks import DELIVERIES_KEPT, Delivery, Webhook, WebhookEvents, WebhookUrl

__all__ = ["SqlWebhookRepository", "delivery_of", "state_of", "webhook_of"]

_w = webhooks
_d = webhook_deliveries


def webhook_of(row: Mapping[Any, Any]) -> Webhook:
    return Webhook(
        id=row["id"],
        owner_id=row["owner_id"],
        url=WebhookUrl(row["url"]),
        events=WebhookEvents.of(row["events"].split()),
        secret_seed=bytes(row["secret_seed"]),
        created_date=row["created_date"],
    )


def state_of(row: Mapping[Any, Any]) -> DeliveryState:
    return DeliveryState(
        cursor=row["cursor"],
        attempts=row["attempts"],
        first_failed_at=row["first_failed_at"],
        retry_at=row["retry_at"],
    )


def delivery_of(row: Mapping[Any, Any]) -> Delivery:
    return Delivery(**{column.name: row[column.name] for column in _d.c})


def _last_seq(owner_id: Any) -> sa.ScalarSelect[Any]:
    """The seq of the owner's last committed event (``NULL`` when none)."""
    heads = note_event_heads
    return sa.select(heads.c.seq).where(heads.c.owner_id == owner_id).scalar_subquery()


class SqlWebhookRepository:
    def __init__(self, uow: Session) -> None:
        self._uow = uow

    async def add(self, webhook: Webhook) -> None:
        values = {
            "owner_id": webhook.owner_id,
            "id": webhook.id,
            "url": webhook.url.value,
            "events": " ".join(webhook.events.values),
            "secret_seed": webhook.secret_seed,
            "created_date": webhook.created_date,
            "cursor": sa.func.coalesce(_last_seq(webhook.owner_id), 0),
        }
        await self._uow.execute(_w.insert().values(values), write=True)

    async def list(self, owner_id: UUID) -> builtins.list[Webhook]:
        statement = (
            sa.select(_w).where(_w.c.owner_id == owner_id).order_by(_w.c.created_date, _w.c.id)
        )
        result = await self._uow.execute(statement, write=False)
        return [webhook_of(row) for row in result.mappings()]

    async def get(self, owner_id: UUID, webhook_id: UUID) -> Webhook | None:
        statement = sa.select(_w).where(_w.c.owner_id == owner_id, _w.c.id == webhook_id)
        row = (await self._uow.execute(statement, write=False)).mappings().first()
        return None if row is None else webhook_of(row)

    async def delete(self, owner_id: UUID, webhook_id: UUID) -> bool:
        deleted = await self._uow.execute(
            _w.delete().where(_w.c.owner_id == owner_id, _w.c.id == webhook_id), write=True
        )
        if not deleted.rowcount:
            return False
        await self._uow.execute(
            _d.delete().where(_d.c.owner_id == owner_id, _d.c.webhook_id == webhook_id),
            write=True,
        )
        return True

    async def deliveries(
        self, owner_id: UUID, webhook_id: UUID, *, limit: int
    ) -> builtins.list[Delivery]:
        statement = (
            sa.select(_d)
            .where(_d.c.owner_id == owner_id, _d.c.webhook_id == webhook_id)
            .order_by(_d.c.id.desc())
            .limit(limit)
        )
        result = await self._uow.execute(statement, write=False)
        return [delivery_of(row) for row in result.mappings()]

    async def claim(
        self, now: datetime, until: datetime, token: UUID, *, limit: int
    ) -> builtins.list[Claim]:
        due = (
            sa.select(_w.c.owner_id, _w.c.id)
            .where(
                sa.or_(_w.c.claimed_until.is_(None), _w.c.claimed_until < now),
                sa.or_(_w.c.retry_at.is_(None), _w.c.retry_at <= now),
                _w.c.cursor < _last_seq(_w.c.owner_id),
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if self._uow.dialect == "mysql":
            return await self._claim_mysql(due, until, token)
        statement = (
            _w.update()
            .where(sa.tuple_(_w.c.owner_id, _w.c.id).in_(due))
            .values(claimed_until=until, claim_token=token)
            .returning(*_w.c)
        )
        result = await self._uow.execute(statement, write=True)
        rows = result.mappings().all()
        return [Claim(webhook_of(row), state_of(row), token, until) for row in rows]

    async def _claim_mysql(
        self, due: sa.Select[Any], until: datetime, token: UUID
    ) -> builtins.list[Claim]:
        keys = [tuple(row) for row in (await self._uow.execute(due, write=True)).all()]
        if not keys:
            return []
        leased = sa.tuple_(_w.c.owner_id, _w.c.id).in_(keys)
        await self._uow.execute(
            _w.update().where(leased).values(claimed_until=until, claim_token=token), write=True
        )
        result = await self._uow.execute(sa.select(_w).where(leased), write=True)
        rows = result.mappings().all()
        return [Claim(webhook_of(row), state_of(row), token, until) for row in rows]

    async def save(
        self,
        owner_id: UUID,
        webhook_id: UUID,
        token: UUID,
        state: DeliveryState,
        *,
        until: datetime | None,
    ) -> bool:
        statement = (
            _w.update()
            .where(_w.c.owner_id == owner_id, _w.c.id == webhook_id, _w.c.claim_token == token)
            .values(
                cursor=state.cursor,
                attempts=state.attempts,
                first_failed_at=state.first_failed_at,
                retry_at=state.retry_at,
                claimed_until=until,
                claim_token=token if until is not None else None,
            )
        )
        return bool((await self._uow.execute(statement, write=True)).rowcount)

    async def record(self, *deliveries: Delivery) -> None:
        if not deliveries:
            return
        rows = [{column.name: getattr(d, column.name) for column in _d.c} for d in deliveries]
        for values in rows:
            if values["error"] is not None:
                values["error"] = values["error"][:MAX_ERROR_LENGTH]
        await self._uow.execute(_d.insert(), rows, write=True)
        for owner_id, webhook_id in dict.fromkeys((d.owner_id, d.webhook_id) for d in deliveries):
            await self._keep_latest(owner_id, webhook_id)

    async def _keep_latest(self, owner_id: UUID, webhook_id: UUID) -> None:
        owned = (_d.c.owner_id == owner_id, _d.c.webhook_id == webhook_id)
        oldest = (
            sa.select(_d.c.id)
            .where(*owned)
            .order_by(_d.c.id.desc())
            .offset(DELIVERIES_KEPT - 1)
            .limit(1)
        )
        oldest_kept: Any = oldest.scalar_subquery()
        if self._uow.dialect == "mysql":
            oldest_kept = (await self._uow.execute(oldest, write=False)).scalar()
            if oldest_kept is None:
                return
        await self._uow.execute(_d.delete().where(*owned, _d.c.id < oldest_kept), write=True)
