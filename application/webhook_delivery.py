"""Delivering the event log to webhooks: at least once, in commit order per webhook.

``DeliverWebhooks`` is one turn of a delivery worker. It leases the webhooks that have an
event due (``WebhookRepository.claim``: a webhook is leased to one worker at a time, so
several processes may run it), sends each webhook's pending events one after the other,
and after each attempt records it and moves the webhook's cursor, renewing the lease, in one
transaction. Nothing is held open while a receiver is called. A worker that dies between
sending and recording leaves the lease to expire; the event is then sent again (at least
once). A failed attempt schedules a retry (``retry_delay``) and releases the lease; after
``RETRY_WINDOW`` of failures the event is given up on (recorded) and the next one follows.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final, Protocol
from uuid import UUID, uuid5

from application.errors import ApplicationError
from application.events import NoteEvent
from application.ports import Clock, IdFactory
from application.webhook_ports import (
    Claim,
    DeliveryState,
    WebhookSender,
    WebhookSigning,
    WebhookUnitOfWork,
    WebhookUnitOfWorkFactory,
)
from domain import Note
from domain.webhooks import (
    FIRST_RETRY,
    RETRY_WINDOW,
    Delivery,
    EventType,
    event_type_of,
    retry_delay,
)

__all__ = ["DeliverWebhooks", "EventMessage", "MessageEncoder", "event_id"]

logger = logging.getLogger(__name__)

_EVENT_IDS: Final = UUID("6f1d3a52-56c4-4d1e-9f51-3c0f4a7e9b21")


def event_id(event: NoteEvent) -> UUID:
    """The event's id, the same for every webhook and every attempt (Standard Webhooks'
    ``webhook-id``, for receivers to drop duplicates), and guessable by no one else."""
    return uuid5(_EVENT_IDS, f"{event.owner_id}:{event.seq}")


@dataclass(frozen=True, slots=True)
class EventMessage:
    """What a webhook is told of an event: the note as it was after the change, or ``None``
    for ``note.deleted`` (and when nothing of the note is kept any more)."""

    id: UUID
    type: EventType
    created_date: datetime
    note_id: UUID
    note: Note | None
    owner: str = ""
    """The username of the note's owner (whose webhook it is)."""


class MessageEncoder(Protocol):
    """Renders a message as the body that is sent (and signed)."""

    def encode(self, message: EventMessage) -> bytes: ...


class DeliverWebhooks:
    """One turn of a delivery worker; ``await deliver()`` returns how many webhooks it
    served (0: nothing was due). A lease lasts ``lease`` from the last attempt recorded: it
    must be longer than the sender's deadline."""

    def __init__(
        self,
        uow: WebhookUnitOfWorkFactory,
        clock: Clock,
        ids: IdFactory,
        sender: WebhookSender,
        signing: WebhookSigning,
        encoder: MessageEncoder,
        *,
        lease: timedelta = timedelta(seconds=60),
        first_retry: timedelta = FIRST_RETRY,
        batch: int = 100,
        claims: int = 16,
        jitter: Callable[[], float] = lambda: random.uniform(0.5, 1.0),  # noqa: S311
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._sender = sender
        self._signing = signing
        self._encoder = encoder
        self._lease = lease
        self._first_retry = first_retry
        self._batch = batch
        self._claims = claims
        self._jitter = jitter

    async def __call__(self) -> int:
        now = self._clock.now()
        async with self._uow() as uow:
            claims = await uow.webhooks.claim(
                now, now + self._lease, self._ids.new_id(), limit=self._claims
            )
            await uow.commit()
        served = await asyncio.gather(*(self._serve(claim) for claim in claims))
        return len(served)

    async def _serve(self, claim: Claim) -> None:
        """Deliver the claimed webhook's pending events, in order, until they are all
        done, one fails, or the lease is lost. Storage failures leave the lease to expire."""
        try:
            state: DeliveryState | None = claim.state
            while state is not None:
                state = await self._serve_batch(claim, state)
        except ApplicationError as error:
            logger.warning("webhook delivery stopped: %s", type(error).__name__)

    async def _serve_batch(self, claim: Claim, state: DeliveryState) -> DeliveryState | None:
        """Deliver the next events; the state to go on from, or ``None`` to stop."""
        webhook = claim.webhook
        async with self._uow() as uow:
            events = await uow.events.after(webhook.owner_id, state.cursor, limit=self._batch)
            owner = await _username(uow, webhook.owner_id) if events else ""
            messages = [
                await _message(uow, event, owner)
                if webhook.wants(event_type_of(event.kind))
                else None
                for event in events
            ]
        if not events:
            await self._save(claim, state, held=False)
            return None
        for event, message in zip(events, messages, strict=True):
            if message is None:
                state = state.done_with(event.seq)
                continue
            next_state = await self._attempt(claim, state, event, message)
            if next_state is None:
                return None
            state = next_state
        if not await self._save(claim, state, held=True):
            return None
        return state

    async def _attempt(
        self, claim: Claim, state: DeliveryState, event: NoteEvent, message: EventMessage
    ) -> DeliveryState | None:
        """Send one event and record the attempt; the state to go on from, or ``None`` when
        this worker stops serving the webhook (a retry is due later, or the lease is lost)."""
        webhook = claim.webhook
        body = self._encoder.encode(message)
        sent_at = self._clock.now()
        headers = self._signing.headers(webhook.secret_seed, str(message.id), sent_at, body)
        answer = await self._sender.send(webhook.url, headers, body)
        now = self._clock.now()
        attempt = state.attempts + 1
        delivery = Delivery(
            owner_id=webhook.owner_id,
            webhook_id=webhook.id,
            id=self._ids.new_id(),
            event_id=message.id,
            seq=event.seq,
            attempt=attempt,
            at=sent_at,
            status_code=answer.status_code,
            error=answer.error,
        )
        failing_since = state.first_failed_at or sent_at
        if delivery.succeeded:
            new, stays = state.done_with(event.seq), True
        elif now - failing_since >= RETRY_WINDOW:
            delivery = replace(delivery, gave_up=True)
            new, stays = state.done_with(event.seq), True
        else:
            new = state.failed(
                sent_at, now + retry_delay(attempt, self._jitter(), self._first_retry)
            )
            stays = False
        async with self._uow() as uow:
            if not await self._save_in(uow, claim, new, held=stays):
                return None
            await uow.webhooks.record(delivery)
            await uow.commit()
        return new if stays else None

    async def _save(self, claim: Claim, state: DeliveryState, *, held: bool) -> bool:
        async with self._uow() as uow:
            saved = await self._save_in(uow, claim, state, held=held)
            await uow.commit()
        return saved

    async def _save_in(
        self, uow: WebhookUnitOfWork, claim: Claim, state: DeliveryState, *, held: bool
    ) -> bool:
        until = self._clock.now() + self._lease if held else None
        webhook = claim.webhook
        return await uow.webhooks.save(
            webhook.owner_id, webhook.id, claim.token, state, until=until
        )


async def _message(uow: WebhookUnitOfWork, event: NoteEvent, owner: str) -> EventMessage:
    kind = event_type_of(event.kind)
    assert kind is not None
    note = None if kind == "note.deleted" else await _note_at(uow, event)
    return EventMessage(
        id=event_id(event),
        type=kind,
        created_date=event.at,
        note_id=event.note_id,
        note=note,
        owner=owner,
    )


async def _username(uow: WebhookUnitOfWork, user_id: UUID) -> str:
    user = await uow.users.get(user_id)
    return "" if user is None else user.username.value


async def _note_at(uow: WebhookUnitOfWork, event: NoteEvent) -> Note | None:
    """The note as it was at ``event``: its revision of that version; when that revision is
    no longer kept, the note as it is now (in the notes or the trash); ``None`` when nothing
    of it is left."""
    current = await uow.notes.get(event.owner_id, event.note_id)
    if current is None:
        trashed = await uow.trashed.get(event.owner_id, event.note_id)
        current = trashed.note if trashed is not None else None
    if current is None or current.version == event.version:
        return current
    revision = await uow.revisions.get(event.owner_id, event.note_id, event.version)
    if revision is None:
        return current
    return Note(
        id=current.id,
        owner_id=current.owner_id,
        title=revision.title,
        description=revision.description,
        tags=revision.tags,
        created_date=current.created_date,
        updated_date=revision.updated_date,
        version=revision.version,
    )
