"""The port for copying a whole storage: every owner's records, read and written in bulk.

A *kind* of record is what one per-user table holds (``KINDS``): its name, the key that
orders one owner's records of it (keyset paging), and the values that make up a record,
which the copy's checksum covers. Users are not a kind: they are the owners the others
hang off, read and written apart (``Transfer.users``, ``Transfer.add_users``).

Adding a kind is one entry in ``KINDS`` (and its type in ``Record``), plus, in each
adapter, how it reads and writes that kind (``adapters.memory.transfer``,
``adapters.sqlalchemy.transfer``).

What storage derives from records is not a kind: it is rebuilt as records are written
(the notes' usage counters, kept by triggers; the notes' search columns). Two kinds are
copied as stored though another could be derived from them:

- ``note_event_heads``: an owner's head may stand above the last event kept (pruned
  events keep their numbers), and the next event must get the number after it, so that a
  feed cursor handed out by the source goes on working against the target.
- ``shared_notes``, the grantee's index of ``note_shares``: it belongs to the grantee (read
  and written by the grantee's id, as sharded storage places it) and holds the note's
  creation date, which a share's owner may not have written yet when the share is (a
  trashed note's is in the trash); copied as it is, the checksum covers it too.

A webhook is copied with its delivery state (``StoredWebhook``: its cursor, failed
attempts and retry time), so it neither loses nor re-sends events, and its secret's seed;
a delivery worker's lease on it is not carried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias
from uuid import UUID

from application.events import EventHead, NoteEvent
from application.idempotency import IdempotencyRecord
from domain import Note, User
from domain.personal_tokens import PersonalToken
from domain.revisions import Revision, TrashedNote
from domain.sessions import RefreshToken
from domain.sharing import Link, Share, SharedNote
from domain.webhooks import Delivery

if TYPE_CHECKING:
    # The webhook ports name the unit of work, whose module names this one.
    from application.webhook_ports import StoredWebhook

__all__ = ["KINDS", "Key", "Kind", "Record", "Transfer", "kind_named", "user_values"]

Record: TypeAlias = (
    "Note | Revision | TrashedNote | RefreshToken | IdempotencyRecord | PersonalToken"
    " | NoteEvent | EventHead | StoredWebhook | Delivery | Share | SharedNote | Link"
)
"""A record of one of the ``KINDS``."""

Key = tuple[Any, ...]
"""Where a record stands among its owner's records of its kind."""


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of record: ``name`` (its table's), ``key`` (unique among one owner's records
    of the kind; pages follow it in ascending order) and ``values`` (everything stored
    for a record, in a fixed order, for the checksum)."""

    name: str
    key: Callable[[Any], Key]
    values: Callable[[Any], tuple[object, ...]]


def _note_values(note: Note) -> tuple[object, ...]:
    return (
        note.id,
        note.owner_id,
        note.title.value,
        note.description.value,
        note.tags.values,
        note.created_date,
        note.updated_date,
        note.version,
    )


def _revision_values(revision: Revision) -> tuple[object, ...]:
    return (
        revision.owner_id,
        revision.note_id,
        revision.version,
        revision.title.value,
        revision.description.value,
        revision.tags.values,
        revision.updated_date,
    )


def _trashed_values(trashed: TrashedNote) -> tuple[object, ...]:
    return (*_note_values(trashed.note), trashed.deleted_date)


def _token_values(token: RefreshToken) -> tuple[object, ...]:
    return (
        token.id,
        token.user_id,
        token.family_id,
        token.token_hash,
        token.issued_at,
        token.expires_at,
        token.used_at,
        token.revoked_at,
    )


def _idempotency_values(record: IdempotencyRecord) -> tuple[object, ...]:
    return (
        record.owner_id,
        record.key,
        record.fingerprint,
        record.result,
        record.created_at,
        record.expires_at,
    )


def _personal_token_values(token: PersonalToken) -> tuple[object, ...]:
    return (
        token.id,
        token.owner_id,
        token.name,
        tuple(sorted(token.scopes)),
        token.token_hash,
        token.created_date,
        token.expires_date,
        token.last_used_date,
    )


def _event_values(event: NoteEvent) -> tuple[object, ...]:
    return (event.owner_id, event.seq, event.note_id, event.kind, event.version, event.at)


def _webhook_values(stored: StoredWebhook) -> tuple[object, ...]:
    webhook, state = stored.webhook, stored.state
    return (
        webhook.id,
        webhook.owner_id,
        webhook.url.value,
        webhook.events.values,
        webhook.secret_seed.hex(),
        webhook.created_date,
        state.cursor,
        state.attempts,
        state.first_failed_at,
        state.retry_at,
    )


def _delivery_values(delivery: Delivery) -> tuple[object, ...]:
    return (
        delivery.owner_id,
        delivery.webhook_id,
        delivery.id,
        delivery.event_id,
        delivery.seq,
        delivery.attempt,
        delivery.at,
        delivery.status_code,
        delivery.error,
        delivery.gave_up,
    )


def _share_values(share: Share) -> tuple[object, ...]:
    # The grantee's name is the user's, not the share's.
    return (
        share.owner_id,
        share.note_id,
        share.grantee_id,
        share.permission.value,
        share.created_date,
    )


def _shared_note_values(shared: SharedNote) -> tuple[object, ...]:
    return (
        shared.grantee_id,
        shared.note_id,
        shared.owner_id,
        shared.permission.value,
        shared.note_created_date,
    )


def _link_values(link: Link) -> tuple[object, ...]:
    return (
        link.id,
        link.owner_id,
        link.note_id,
        link.token_hash,
        link.created_date,
        link.expires_date,
    )


KINDS: Final[tuple[Kind, ...]] = (
    Kind("notes", lambda n: (n.id,), _note_values),
    Kind("note_revisions", lambda r: (r.note_id, r.version), _revision_values),
    Kind("trashed_notes", lambda t: (t.note.id,), _trashed_values),
    Kind("refresh_tokens", lambda t: (t.id,), _token_values),
    Kind("idempotency_keys", lambda r: (r.key,), _idempotency_values),
    Kind("personal_tokens", lambda t: (t.id,), _personal_token_values),
    Kind("note_events", lambda e: (e.seq,), _event_values),
    Kind("note_event_heads", lambda h: (h.owner_id,), lambda h: (h.owner_id, h.seq)),
    Kind("webhooks", lambda w: (w.webhook.id,), _webhook_values),
    Kind("webhook_deliveries", lambda d: (d.webhook_id, d.id), _delivery_values),
    Kind("note_shares", lambda s: (s.note_id, s.grantee_id), _share_values),
    # The grantee's index of the shares, keyed and owned by the grantee.
    Kind("shared_notes", lambda s: (s.note_id, s.owner_id), _shared_note_values),
    Kind("note_links", lambda k: (k.id,), _link_values),
)
"""Every kind of record a copy carries, in the order it copies them."""


def kind_named(name: str) -> Kind:
    """The kind called ``name``; ``LookupError`` for none."""
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise LookupError(name)


def user_values(user: User) -> tuple[object, ...]:
    """Everything stored for a user, for the checksum."""
    return (user.id, user.username.value, user.password_hash, user.created_date)


class Transfer(Protocol):
    """Every owner's records, read a page at a time and written in batches, exactly as
    stored (ids, versions, dates, hashes): a copy of the whole storage.

    A maintenance job across owners, as the sweeps are: the users are read by id, then each
    owner's records of each kind on their own (every read and delete names its owner).
    Writes are plain inserts: they make nothing a request's write would (a new note's
    revision); what storage derives from them follows (usage counters). ``Conflict`` when
    a record exists already; ``StorageUnavailable`` as for every port.
    """

    async def users(self, *, after: UUID | None, limit: int) -> list[User]:
        """At most ``limit`` users, by id ascending, those with ids above ``after`` when
        given."""
        ...

    async def records(
        self, kind: str, owner_id: UUID, *, after: Key | None, limit: int
    ) -> list[Any]:
        """At most ``limit`` of the owner's records of ``kind``, in ascending ``Kind.key``
        order, those after the key ``after`` when given."""
        ...

    async def add_users(self, users: Sequence[User]) -> None:
        """Store users as they are, password hashes included."""
        ...

    async def add_records(self, kind: str, records: Sequence[Any]) -> None:
        """Store records of ``kind`` (of any owners, who exist) as they are, in as few
        statements as storage allows."""
        ...

    async def holds_users(self) -> bool:
        """Whether any user is stored (every other record belongs to one)."""
        ...

    async def remove_owner(self, owner_id: UUID) -> None:
        """Delete the user and every record of every kind that is theirs, and the shares
        that name them on the other side (another's share with them, their shares in
        another's index)."""
        ...
