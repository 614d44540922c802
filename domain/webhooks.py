"""Webhooks: where a user's note events are pushed, and the rules of their delivery.

A ``Webhook`` names an endpoint (``WebhookUrl``: http or https, no credentials) and the
event types it wants. Each event goes to it at least once, in the order the changes
committed; a failed attempt is retried after ``retry_delay`` (growing exponentially, with
jitter) until ``RETRY_WINDOW`` has passed since the first attempt, and then given up.
Whether an address may be called is ``is_public_address``: only globally routable ones,
unless the operator allows private networks.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, get_args
from urllib.parse import urlsplit
from uuid import UUID

from domain.errors import RuleViolation

__all__ = [
    "DELIVERIES_KEPT",
    "EVENT_TYPES",
    "FIRST_RETRY",
    "LONGEST_RETRY",
    "MAX_URL_LENGTH",
    "MAX_WEBHOOKS",
    "RETRY_WINDOW",
    "Delivery",
    "EventType",
    "InvalidWebhookEvents",
    "InvalidWebhookUrl",
    "Webhook",
    "WebhookEvents",
    "WebhookUrl",
    "event_type_of",
    "is_public_address",
    "retry_delay",
]

EventType = Literal["note.created", "note.updated", "note.deleted", "note.restored"]
EVENT_TYPES: Final[tuple[EventType, ...]] = get_args(EventType)
MAX_URL_LENGTH: Final = 2048
MAX_WEBHOOKS: Final = 20
"""Webhooks one user may have at once."""

DELIVERIES_KEPT: Final = 100
"""Delivery attempts kept per webhook; older ones are forgotten as new ones are recorded."""

RETRY_WINDOW: Final = timedelta(hours=24)
FIRST_RETRY: Final = timedelta(seconds=5)
LONGEST_RETRY: Final = timedelta(hours=1)

_EVENT_OF_KIND: Final[dict[str, EventType]] = {
    "created": "note.created",
    "updated": "note.updated",
    "deleted": "note.deleted",
    "restored": "note.restored",
}


class InvalidWebhookUrl(RuleViolation):
    field = "url"


class InvalidWebhookEvents(RuleViolation):
    field = "events"


@dataclass(frozen=True, slots=True)
class WebhookUrl:
    """An absolute http(s) URL with a host and no user name or password in it."""

    value: str

    def __post_init__(self) -> None:
        value = self.value
        if not value or len(value) > MAX_URL_LENGTH:
            raise InvalidWebhookUrl(f"a URL of 1 to {MAX_URL_LENGTH} characters is required")
        if any(ord(c) <= 32 or ord(c) == 127 for c in value) or not value.isascii():
            raise InvalidWebhookUrl("the URL must be ASCII, without spaces or control characters")
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError as error:
            raise InvalidWebhookUrl("the URL cannot be parsed") from error
        if parts.scheme not in ("http", "https"):
            raise InvalidWebhookUrl("the URL must start with https:// or http://")
        if parts.username is not None or parts.password is not None:
            raise InvalidWebhookUrl("the URL must not carry a user name or password")
        if not parts.hostname:
            raise InvalidWebhookUrl("the URL must name a host")
        if port == 0:
            raise InvalidWebhookUrl("the URL's port must be 1 to 65535")

    @property
    def host(self) -> str:
        """The host name, or the address literal without brackets, lower-cased."""
        host = urlsplit(self.value).hostname
        assert host is not None
        return host

    @property
    def port(self) -> int:
        parts = urlsplit(self.value)
        return parts.port or (443 if parts.scheme == "https" else 80)


@dataclass(frozen=True, slots=True)
class WebhookEvents:
    """A non-empty set of event types, in ``EVENT_TYPES`` order, each at most once."""

    values: tuple[EventType, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise InvalidWebhookEvents("at least one event type is required")
        for index, value in enumerate(self.values):
            if value not in EVENT_TYPES:
                raise InvalidWebhookEvents(
                    f"unknown event type; one of {', '.join(EVENT_TYPES)}", index=index
                )
        ordered = tuple(t for t in EVENT_TYPES if t in self.values)
        object.__setattr__(self, "values", ordered)

    @classmethod
    def of(cls, values: tuple[str, ...] | list[str]) -> WebhookEvents:
        return cls(tuple(values))  # type: ignore[arg-type]  # checked in __post_init__


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    """A user's endpoint for note events. ``secret_seed`` is what the service derives the
    signing secret from (the secret itself is never stored)."""

    id: UUID
    owner_id: UUID
    url: WebhookUrl
    events: WebhookEvents
    secret_seed: bytes
    created_date: datetime

    def wants(self, event_type: EventType | None) -> bool:
        return event_type is not None and event_type in self.events.values


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One attempt to deliver an event: its answer's status code, or the error that kept
    it from getting one. ``gave_up`` marks the last attempt of an event given up on."""

    owner_id: UUID
    webhook_id: UUID
    id: UUID
    event_id: UUID
    seq: int
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    gave_up: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def event_type_of(kind: str) -> EventType | None:
    """The webhook event type of a note event kind; ``None`` for kinds not delivered (a
    note deleted for good from the trash)."""
    return _EVENT_OF_KIND.get(kind)


def retry_delay(attempt: int, jitter: float, first: timedelta = FIRST_RETRY) -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (1 for the first):
    ``first`` doubled with each attempt, at most ``LONGEST_RETRY``, scaled by
    ``jitter`` (drawn from 0.5 to 1.0) so that receivers recovering from an outage are not
    hit by every sender at the same moment."""
    if not 0.5 <= jitter <= 1.0:
        raise ValueError("jitter must be within 0.5 and 1.0")
    exponent = min(max(attempt, 1) - 1, 20)
    base: timedelta = min(first * (2**exponent), LONGEST_RETRY)
    return base * jitter


def is_public_address(address: str) -> bool:
    """Whether ``address`` (an IPv4 or IPv6 literal) is globally routable: not loopback,
    private, link-local, shared (carrier-grade NAT), reserved, multicast or unspecified.
    An IPv4 address embedded in IPv6 (mapped, 6to4, Teredo) is judged as itself."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    return ip.is_global and not ip.is_multicast
