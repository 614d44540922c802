"""Webhooks and their deliveries in the in-memory database (``adapters.memory.database``)."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from application.errors import Conflict
from application.webhook_ports import Claim, DeliveryState
from domain.webhooks import DELIVERIES_KEPT, Delivery, Webhook

if TYPE_CHECKING:
    from adapters.memory.database import _Transaction

__all__ = ["TABLES", "MemoryWebhookRepository", "StoredRow"]

TABLES = ("webhooks", "webhook_deliveries")


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A webhook as the in-memory table holds it: with its delivery state and lease."""

    webhook: Webhook
    state: DeliveryState
    claimed_until: datetime | None = None
    token: UUID | None = None


class MemoryWebhookRepository:
    """Webhooks keyed by (owner id, webhook id); deliveries by (owner id, webhook id, id)."""

    def __init__(self, tx: _Transaction, head: Callable[[UUID], int]) -> None:
        self._tx = tx
        self._head = head

    async def add(self, webhook: Webhook) -> None:
        key = (webhook.owner_id, webhook.id)
        await self._tx.lock("webhooks", key)
        if self._tx.get("webhooks", key) is not None:
            raise Conflict(f"a webhook with id {webhook.id} exists")
        cursor = self._head(webhook.owner_id)
        self._tx.put("webhooks", key, StoredRow(webhook, DeliveryState(cursor=cursor)))

    async def list(self, owner_id: UUID) -> builtins.list[Webhook]:
        rows = [r.webhook for r in self._tx.rows("webhooks") if r.webhook.owner_id == owner_id]
        return sorted(rows, key=lambda w: (w.created_date, w.id))

    async def get(self, owner_id: UUID, webhook_id: UUID) -> Webhook | None:
        row: StoredRow | None = self._tx.get("webhooks", (owner_id, webhook_id))
        return None if row is None else row.webhook

    async def delete(self, owner_id: UUID, webhook_id: UUID) -> bool:
        key = (owner_id, webhook_id)
        await self._tx.lock("webhooks", key)
        if self._tx.get("webhooks", key) is None:
            return False
        self._tx.delete("webhooks", key)
        for delivery in list(self._tx.rows("webhook_deliveries")):
            if (delivery.owner_id, delivery.webhook_id) == key:
                self._tx.delete("webhook_deliveries", (*key, delivery.id))
        return True

    async def deliveries(
        self, owner_id: UUID, webhook_id: UUID, *, limit: int
    ) -> builtins.list[Delivery]:
        found = [
            d
            for d in self._tx.rows("webhook_deliveries")
            if d.owner_id == owner_id and d.webhook_id == webhook_id
        ]
        found.sort(key=lambda d: d.id, reverse=True)
        return found[:limit]

    async def claim(
        self, now: datetime, until: datetime, token: UUID, *, limit: int
    ) -> builtins.list[Claim]:
        claims: builtins.list[Claim] = []
        for key in [(r.webhook.owner_id, r.webhook.id) for r in self._tx.rows("webhooks")]:
            if len(claims) >= limit:
                break
            await self._tx.lock("webhooks", key)
            row: StoredRow | None = self._tx.get("webhooks", key)
            if row is None or not _due(row, now) or row.state.cursor >= self._head(key[0]):
                continue
            self._tx.put("webhooks", key, replace(row, claimed_until=until, token=token))
            claims.append(Claim(row.webhook, row.state, token, until))
        return claims

    async def save(
        self,
        owner_id: UUID,
        webhook_id: UUID,
        token: UUID,
        state: DeliveryState,
        *,
        until: datetime | None,
    ) -> bool:
        key = (owner_id, webhook_id)
        await self._tx.lock("webhooks", key)
        row: StoredRow | None = self._tx.get("webhooks", key)
        if row is None or row.token != token:
            return False
        held = token if until is not None else None
        self._tx.put("webhooks", key, StoredRow(row.webhook, state, until, held))
        return True

    async def record(self, *deliveries: Delivery) -> None:
        for delivery in deliveries:
            key = (delivery.owner_id, delivery.webhook_id, delivery.id)
            await self._tx.lock("webhook_deliveries", key)
            self._tx.put("webhook_deliveries", key, delivery)
        for owner_id, webhook_id in dict.fromkeys((d.owner_id, d.webhook_id) for d in deliveries):
            kept = await self.deliveries(owner_id, webhook_id, limit=10**9)
            for old in kept[DELIVERIES_KEPT:]:
                self._tx.delete("webhook_deliveries", (old.owner_id, old.webhook_id, old.id))


def _due(row: StoredRow, now: datetime) -> bool:
    leased = row.claimed_until is not None and row.claimed_until >= now
    waiting = row.state.retry_at is not None and row.state.retry_at > now
    return not leased and not waiting
