"""Managing webhooks: register one (its secret shown once), list, delete, and read what
its deliveries got."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from uuid import UUID

from application.errors import ApplicationError
from application.ports import Clock, IdFactory
from application.webhook_ports import WebhookSender, WebhookSigning, WebhookUnitOfWorkFactory
from domain.errors import RuleViolation
from domain.webhooks import MAX_WEBHOOKS, Delivery, Webhook, WebhookEvents, WebhookUrl

__all__ = ["RegisteredWebhook", "TooManyWebhooks", "WebhookNotFound", "Webhooks"]

MAX_DELIVERIES_LISTED = 100


class WebhookNotFound(ApplicationError):
    """No webhook with this id belongs to the caller."""

    def __init__(self, webhook_id: UUID) -> None:
        super().__init__(f"webhook {webhook_id} not found")


class TooManyWebhooks(RuleViolation):
    field = "url"


@dataclass(frozen=True, slots=True)
class RegisteredWebhook:
    """A new webhook and its secret, which is shown this once."""

    webhook: Webhook
    secret: str


class Webhooks:
    """The use cases of a user's webhooks."""

    def __init__(
        self,
        uow: WebhookUnitOfWorkFactory,
        clock: Clock,
        ids: IdFactory,
        signing: WebhookSigning,
        sender: WebhookSender,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._signing = signing
        self._sender = sender

    async def register(
        self, owner_id: UUID, url: str, events: list[str] | tuple[str, ...]
    ) -> RegisteredWebhook:
        """A new webhook for ``url``; ``InvalidWebhookUrl`` if the URL breaks a rule or its
        host resolves to an address that may not be called. It receives the events that
        commit after it."""
        checked = WebhookUrl(url)
        wanted = WebhookEvents.of(events)
        await self._sender.check(checked)
        seed = self._signing.new_seed()
        webhook = Webhook(
            id=self._ids.new_id(),
            owner_id=owner_id,
            url=checked,
            events=wanted,
            secret_seed=seed,
            created_date=self._clock.now(),
        )
        async with self._uow() as uow:
            if len(await uow.webhooks.list(owner_id)) >= MAX_WEBHOOKS:
                raise TooManyWebhooks(f"at most {MAX_WEBHOOKS} webhooks per user")
            await uow.webhooks.add(webhook)
            await uow.commit()
        return RegisteredWebhook(webhook, self._signing.secret(seed))

    async def list(self, owner_id: UUID) -> list[Webhook]:
        async with self._uow() as uow:
            return await uow.webhooks.list(owner_id)

    async def delete(self, owner_id: UUID, webhook_id: UUID) -> None:
        """Stop deliveries and forget the webhook; ``WebhookNotFound`` if the owner has no
        such webhook."""
        async with self._uow() as uow:
            if not await uow.webhooks.delete(owner_id, webhook_id):
                raise WebhookNotFound(webhook_id)
            await uow.commit()

    async def deliveries(self, owner_id: UUID, webhook_id: UUID) -> builtins.list[Delivery]:
        """The webhook's most recent attempts, newest first."""
        async with self._uow() as uow:
            if await uow.webhooks.get(owner_id, webhook_id) is None:
                raise WebhookNotFound(webhook_id)
            return await uow.webhooks.deliveries(owner_id, webhook_id, limit=MAX_DELIVERIES_LISTED)
