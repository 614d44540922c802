"""The JSON shapes of the webhook routes, and of the messages webhooks receive."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from application.webhook_delivery import EventMessage
from domain.webhooks import EVENT_TYPES, MAX_URL_LENGTH, Delivery, EventType, Webhook
from entrypoints.http.schemas import NotePublic

__all__ = [
    "DeliveryPublic",
    "JsonMessageEncoder",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookPublic",
]

_EVENTS_DOC = f"One or more of {', '.join(f'`{t}`' for t in EVENT_TYPES)}."


class WebhookCreate(BaseModel):
    """A new webhook: where to POST events, and which."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [{"url": "https://example.com/hooks/notes", "events": ["note.created"]}]
        },
    )

    url: str = Field(
        max_length=MAX_URL_LENGTH,
        description="An https or http URL, without user name or password, whose host "
        "resolves to public addresses.",
    )
    # The domain checks the names (naming the offending one); here only the shape.
    events: list[str] = Field(
        min_length=1, max_length=len(EVENT_TYPES) * 4, description=_EVENTS_DOC
    )


class WebhookPublic(BaseModel):
    """A registered webhook (its secret is shown only when it is created)."""

    id: UUID
    url: str
    events: list[EventType]
    created_date: datetime

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookPublic:
        return cls(
            id=webhook.id,
            url=webhook.url.value,
            events=list(webhook.events.values),
            created_date=webhook.created_date,
        )


class WebhookCreated(WebhookPublic):
    """A new webhook, with the secret its messages are signed with: shown this once."""

    secret: str = Field(
        description="`whsec_` and the base64 of the key: verify each message's "
        "`webhook-signature` with it (Standard Webhooks)."
    )


class DeliveryPublic(BaseModel):
    """One attempt to deliver an event."""

    event_id: UUID = Field(description="The event's id, also sent as `webhook-id`.")
    attempt: int = Field(description="1 for the first attempt of this event, then 2, …")
    date: datetime = Field(description="When the attempt was made.")
    status_code: int | None = Field(description="The receiver's answer; null when none came.")
    error: str | None = Field(description="Why no answer came (timeout, refused address, …).")
    gave_up: bool = Field(description="True on the last attempt of an event given up on.")

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryPublic:
        return cls(
            event_id=delivery.event_id,
            attempt=delivery.attempt,
            date=delivery.at,
            status_code=delivery.status_code,
            error=delivery.error,
            gave_up=delivery.gave_up,
        )


class _Message(BaseModel):
    id: UUID
    type: EventType
    created_date: datetime
    data: dict[str, Any]


class JsonMessageEncoder:
    """``MessageEncoder``: ``{"id", "type", "created_date", "data": {"note": {…}}}``, the
    note as ``GET /notes/{id}`` shows it; ``data`` is ``{"id"}`` for ``note.deleted`` and
    when nothing of the note is kept any more."""

    def encode(self, message: EventMessage) -> bytes:
        data: dict[str, Any]
        if message.note is None:
            data = {"id": message.note_id}
        else:
            data = {"note": NotePublic.from_note(message.note, message.owner)}
        body = _Message(
            id=message.id, type=message.type, created_date=message.created_date, data=data
        )
        return body.model_dump_json().encode()
