"""The ports webhooks need: their storage, the signing of messages and the sending of them."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol
from uuid import UUID

from application.events import EventLog
from application.ports import UnitOfWork
from domain.webhooks import Delivery, Webhook, WebhookUrl

__all__ = [
    "Answer",
    "Claim",
    "DeliveryState",
    "StoredWebhook",
    "WebhookRepository",
    "WebhookSender",
    "WebhookSigning",
    "WebhookUnitOfWork",
    "WebhookUnitOfWorkFactory",
]


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """Where a webhook's deliveries stand: ``cursor`` is the seq of the last event of its
    owner's log it is done with (delivered, given up on, or not wanted); ``attempts`` have
    failed for the next one, the first at ``first_failed_at``; none is due before
    ``retry_at``."""

    cursor: int
    attempts: int = 0
    first_failed_at: datetime | None = None
    retry_at: datetime | None = None

    def done_with(self, seq: int) -> DeliveryState:
        """The state once the event ``seq`` is delivered, given up on or skipped."""
        return DeliveryState(cursor=seq)

    def failed(self, at: datetime, retry_at: datetime) -> DeliveryState:
        return replace(
            self,
            attempts=self.attempts + 1,
            first_failed_at=self.first_failed_at or at,
            retry_at=retry_at,
        )


@dataclass(frozen=True, slots=True)
class StoredWebhook:
    """A webhook with where its deliveries stand, as stored (a worker's lease aside)."""

    webhook: Webhook
    state: DeliveryState


@dataclass(frozen=True, slots=True)
class Claim:
    """A webhook leased to one delivery worker (``token``) until the lease ends
    (``until``, unless renewed)."""

    webhook: Webhook
    state: DeliveryState
    token: UUID
    until: datetime


class WebhookRepository(Protocol):
    """Webhooks and their delivery attempts, scoped to an owner, except ``claim``: the
    delivery workers' maintenance query across owners."""

    async def add(self, webhook: Webhook) -> None:
        """Store a new webhook; its deliveries start after the owner's events committed
        so far."""
        ...

    async def list(self, owner_id: UUID) -> builtins.list[Webhook]:
        """The owner's webhooks, oldest first."""
        ...

    async def get(self, owner_id: UUID, webhook_id: UUID) -> Webhook | None: ...

    async def delete(self, owner_id: UUID, webhook_id: UUID) -> bool:
        """Delete the webhook with its recorded deliveries; ``True`` if it existed."""
        ...

    async def deliveries(
        self, owner_id: UUID, webhook_id: UUID, *, limit: int
    ) -> builtins.list[Delivery]:
        """The webhook's most recent delivery attempts, newest first."""
        ...

    async def claim(
        self, now: datetime, until: datetime, token: UUID, *, limit: int
    ) -> builtins.list[Claim]:
        """Lease, to ``token`` until ``until``, at most ``limit`` webhooks of any owner that
        no lease holds at ``now`` and that have an event due (after their cursor, and not
        waiting for a retry). Concurrent claims never lease the same webhook: a row another
        claim is taking is skipped, not waited for."""
        ...

    async def save(
        self,
        owner_id: UUID,
        webhook_id: UUID,
        token: UUID,
        state: DeliveryState,
        *,
        until: datetime | None,
    ) -> bool:
        """Store the webhook's new delivery state, if ``token`` still holds its lease;
        the lease is renewed until ``until``, or released with ``None``. ``True`` if the
        lease was held."""
        ...

    async def record(self, *deliveries: Delivery) -> None:
        """Record delivery attempts (of any webhooks), keeping each webhook's latest
        ``DELIVERIES_KEPT``."""
        ...


@dataclass(frozen=True, slots=True)
class Answer:
    """What a delivery attempt got: the receiver's status code, or why there was none."""

    status_code: int | None
    error: str | None = None


class WebhookSender(Protocol):
    """Sends messages to webhook endpoints, refusing addresses that are not public (unless
    the operator allows private networks), checked when the message is sent."""

    async def check(self, url: WebhookUrl) -> None:
        """``InvalidWebhookUrl`` unless ``url``'s host resolves, and only to addresses that
        may be called."""
        ...

    async def send(self, url: WebhookUrl, headers: Mapping[str, str], body: bytes) -> Answer:
        """POST ``body`` to ``url`` (resolved anew, checked, and connected to at the address
        checked); never raises for the receiver's or the network's failures."""
        ...


class WebhookSigning(Protocol):
    """Webhook secrets and signatures (the Standard Webhooks scheme)."""

    def new_seed(self) -> bytes:
        """Fresh random material to derive a new webhook's secret from."""
        ...

    def secret(self, seed: bytes) -> str:
        """The secret (``whsec_…``) derived from ``seed``; only the service can derive it."""
        ...

    def headers(self, seed: bytes, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
        """The ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers."""
        ...


class WebhookUnitOfWork(UnitOfWork, Protocol):
    """A unit of work that also hands out the webhooks and the event log."""

    @property
    def webhooks(self) -> WebhookRepository: ...

    @property
    def events(self) -> EventLog: ...


WebhookUnitOfWorkFactory = Callable[[], WebhookUnitOfWork]
