"""Delivering the event log to webhooks: at least once, in commit order per webhook.

``DeliverWebhooks`` serves webhooks for a delivery worker. ``claim`` leases webhooks that
have an event due (``WebhookRepository.claim``: a webhook is leased to one worker at a
time, so several processes may run); ``serve`` sends one claimed webhook's pending events
one after the other until none is left (and none came in ``linger`` more looks), then
releases it. Each claimed webhook is served on its own, so a worker can fill a slot as
soon as one frees (``entrypoints.webhook_worker``); ``deliver()`` (calling the object) is
one turn that claims and serves up to ``claims`` at once and returns when they are all
done.

Attempts are recorded, and the webhook's cursor moved with them, in one transaction that
also renews the lease: after a failed attempt, after the last event of a batch, and before
any attempt that would start more than ``record_within`` after the last one (so a lease
never runs out while its holder is still sending: it must last longer than
``record_within`` plus the sender's deadline). Nothing is held open while a receiver is
called. A worker that dies before recording leaves the lease to expire; the events it sent
are then sent again (at least once). A failed attempt schedules a retry (``retry_delay``)
and releases the lease; after ``RETRY_WINDOW`` of failures the event is given up on
(recorded) and the next one follows.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
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


@dataclass(slots=True)
class _Held:
    """A claim being served: when its lease was last renewed, whose webhook it is."""

    claim: Claim
    renewed: datetime
    owner: str | None = None
    pending: list[Delivery] = field(default_factory=list)
    """Attempts made and not yet recorded."""
    idle: int = 0
    """Looks in a row that found no event."""


class DeliverWebhooks:
    """Claims and serves webhooks; ``await deliver()`` is one turn, returning how many
    webhooks it served (0: nothing was due). A lease lasts ``lease`` from the last
    recording: it must be longer than ``record_within`` plus the sender's deadline. A
    webhook whose events are all delivered is kept for
    ``linger`` more looks, ``poll`` apart, before it is released: a webhook that gets
    events often is served without a new claim for each."""

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
        record_within: timedelta = timedelta(seconds=1),
        first_retry: timedelta = FIRST_RETRY,
        batch: int = 100,
        claims: int = 16,
        linger: int = 0,
        poll: timedelta = timedelta(seconds=0.2),
        jitter: Callable[[], float] = lambda: random.uniform(0.5, 1.0),  # noqa: S311
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._sender = sender
        self._signing = signing
        self._encoder = encoder
        self._lease = lease
        self._record_within = record_within
        self._first_retry = first_retry
        self._batch = batch
        self._linger = linger
        self._poll = poll
        self.claims = claims
        """How many webhooks one turn serves at most (a worker's slots)."""
        self._jitter = jitter

    async def __call__(self) -> int:
        claims = await self.claim(self.claims)
        await asyncio.gather(*(self.serve(claim) for claim in claims))
        return len(claims)

    async def claim(self, limit: int) -> list[Claim]:
        """Lease at most ``limit`` webhooks that have an event due, for ``serve``."""
        now = self._clock.now()
        async with self._uow() as uow:
            claims = await uow.webhooks.claim(
                now, now + self._lease, self._ids.new_id(), limit=limit
            )
            await uow.commit()
        return claims

    async def serve(self, claim: Claim) -> None:
        """Deliver the claimed webhook's pending events, in order, until they are all
        done, one fails, or the lease is lost. Storage failures are logged, and leave the
        lease to expire."""
        held = _Held(claim, claim.until - self._lease)
        try:
            state: DeliveryState | None = claim.state
            while state is not None:
                state = await self._serve_batch(held, state)
        except ApplicationError as error:
            logger.warning("webhook delivery stopped: %s", type(error).__name__)

    async def _serve_batch(self, held: _Held, state: DeliveryState) -> DeliveryState | None:
        """Deliver the next events; the state to go on from, or ``None`` to stop."""
        webhook = held.claim.webhook
        async with self._uow() as uow:
            events = await uow.events.after(webhook.owner_id, state.cursor, limit=self._batch)
            if events and held.owner is None:
                held.owner = await _username(uow, webhook.owner_id)
            messages = [
                await _message(uow, event, held.owner or "")
                if webhook.wants(event_type_of(event.kind))
                else None
                for event in events
            ]
        if not events:
            if held.idle < self._linger:
                held.idle += 1
                await self._await_events(webhook.owner_id)
                return state
            await self._record(held, state, stays=False)
            return None
        held.idle = 0
        for event, message in zip(events, messages, strict=True):
            if message is None:
                state = state.done_with(event.seq)
                continue
            overdue = self._clock.now() - held.renewed >= self._record_within
            if overdue and not await self._record(held, state, stays=True):
                return None
            next_state = await self._attempt(held, state, event, message)
            if next_state is None:
                return None
            state = next_state
        if not await self._record(held, state, stays=True):
            return None
        return state

    async def _await_events(self, owner_id: UUID) -> None:
        """Wait ``poll`` before looking for the owner's events again."""
        await asyncio.sleep(self._poll.total_seconds())

    async def _attempt(
        self, held: _Held, state: DeliveryState, event: NoteEvent, message: EventMessage
    ) -> DeliveryState | None:
        """Send one event; the state to go on from, or ``None`` when this worker stops
        serving the webhook (a retry is due later, or the lease is lost)."""
        webhook = held.claim.webhook
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
            held.pending.append(delivery)
            return state.done_with(event.seq)
        if now - failing_since >= RETRY_WINDOW:
            held.pending.append(replace(delivery, gave_up=True))
            return state.done_with(event.seq)
        held.pending.append(delivery)
        retry_at = now + retry_delay(attempt, self._jitter(), self._first_retry)
        await self._record(held, state.failed(sent_at, retry_at), stays=False)
        return None

    async def _record(self, held: _Held, state: DeliveryState, *, stays: bool) -> bool:
        """Record the pending attempts with ``state``, renewing the lease (``stays``) or
        releasing it, in one transaction; ``False`` (nothing recorded) if the lease was
        lost."""
        webhook = held.claim.webhook
        now = self._clock.now()
        until = now + self._lease if stays else None
        async with self._uow() as uow:
            saved = await uow.webhooks.save(
                webhook.owner_id, webhook.id, held.claim.token, state, until=until
            )
            if not saved:
                return False
            await uow.webhooks.record(*held.pending)
            await uow.commit()
        held.pending.clear()
        held.renewed = now
        return True


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
    of it is left. (Each read may see a newer commit than the one before it: a note restored
    between the two reads is in neither, so they are made again before concluding that
    nothing is left.)"""
    current = None
    for _ in range(3):
        current = await uow.notes.get(event.owner_id, event.note_id)
        if current is not None:
            break
        trashed = await uow.trashed.get(event.owner_id, event.note_id)
        if trashed is not None:
            current = trashed.note
            break
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
