"""The in-memory side of ``application.transfer``: every owner's records, in bulk."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from adapters.memory.webhooks import StoredRow
from application.errors import Conflict
from application.events import EventHead
from application.transfer import Key, kind_named
from application.webhook_ports import StoredWebhook
from domain import User
from domain.revisions import Revision

if TYPE_CHECKING:
    from adapters.memory.database import _Transaction

__all__ = ["MemoryTransfer"]


def _revisions(tx: _Transaction) -> Iterable[Revision]:
    for kept in tx.rows("note_revisions"):
        yield from kept


# Per kind: its table, a record's owner, and the key it is stored under in that table.
_TABLES: Final[dict[str, tuple[str, Callable[[Any], UUID], Callable[[Any], Any]]]] = {
    "notes": ("notes", lambda n: n.owner_id, lambda n: (n.owner_id, n.id)),
    "note_revisions": ("note_revisions", lambda r: r.owner_id, lambda r: (r.owner_id, r.note_id)),
    "trashed_notes": (
        "trashed_notes",
        lambda t: t.note.owner_id,
        lambda t: (t.note.owner_id, t.note.id),
    ),
    "refresh_tokens": ("refresh_tokens", lambda t: t.user_id, lambda t: (t.user_id, t.token_hash)),
    "idempotency_keys": ("idempotency_keys", lambda r: r.owner_id, lambda r: (r.owner_id, r.key)),
    "personal_tokens": ("personal_tokens", lambda t: t.owner_id, lambda t: (t.owner_id, t.id)),
    "note_events": ("note_events", lambda e: e.owner_id, lambda e: (e.owner_id, e.seq)),
    "note_event_heads": ("note_event_heads", lambda h: h.owner_id, lambda h: h.owner_id),
    "webhooks": (
        "webhooks",
        lambda w: w.webhook.owner_id,
        lambda w: (w.webhook.owner_id, w.webhook.id),
    ),
    "webhook_deliveries": (
        "webhook_deliveries",
        lambda d: d.owner_id,
        lambda d: (d.owner_id, d.webhook_id, d.id),
    ),
    "note_shares": (
        "note_shares",
        lambda s: s.owner_id,
        lambda s: (s.owner_id, s.note_id, s.grantee_id),
    ),
    "shared_notes": ("shared_notes", lambda s: s.grantee_id, lambda s: (s.grantee_id, s.note_id)),
    "note_links": ("note_links", lambda k: k.owner_id, lambda k: (k.owner_id, k.id)),
}


def _heads(tx: _Transaction) -> Iterable[EventHead]:
    # Stored as (last seq, lowest kept seq) per owner.
    for owner_id, (last, _) in tx.items("note_event_heads"):
        assert isinstance(owner_id, UUID)
        yield EventHead(owner_id, last)


def _webhooks(tx: _Transaction) -> Iterable[StoredWebhook]:
    for row in tx.rows("webhooks"):
        yield StoredWebhook(row.webhook, row.state)


def _stored(kind: str, record: Any) -> Any:
    """A record as its table holds it."""
    if kind == "webhooks":
        # A worker's lease on the source is not carried: the target's workers start afresh.
        return StoredRow(record.webhook, record.state)
    return record


class MemoryTransfer:
    def __init__(self, tx: _Transaction) -> None:
        self._tx = tx

    def _all(self, kind: str) -> Iterable[Any]:
        if kind == "note_revisions":
            return _revisions(self._tx)
        if kind == "note_event_heads":
            return _heads(self._tx)
        if kind == "webhooks":
            return _webhooks(self._tx)
        return self._tx.rows(_TABLES[kind][0])

    async def users(self, *, after: UUID | None, limit: int) -> builtins.list[User]:
        found = sorted(
            (u for u in self._tx.rows("users") if after is None or u.id > after),
            key=lambda u: u.id,
        )
        return found[:limit]

    async def records(
        self, kind: str, owner_id: UUID, *, after: Key | None, limit: int
    ) -> builtins.list[Any]:
        key = kind_named(kind).key
        owner_of = _TABLES[kind][1]
        found = sorted(
            (
                r
                for r in self._all(kind)
                if owner_of(r) == owner_id and (after is None or key(r) > after)
            ),
            key=key,
        )
        return found[:limit]

    async def add_users(self, users: Sequence[User]) -> None:
        for user in users:
            await self._tx.lock("users.username", user.username.key)
            await self._tx.lock("users", user.id)
            if self._tx.get("users", user.id) is not None:
                raise Conflict(f"a user with id {user.id} exists")
            self._tx.put("users", user.id, user)

    async def add_records(self, kind: str, records: Sequence[Any]) -> None:
        table, _, stored_under = _TABLES[kind]
        for record in records:
            row = stored_under(record)
            await self._tx.lock(table, row)
            if kind == "note_revisions":
                self._add_revision(row, record)
                continue
            if self._tx.get(table, row) is not None:
                raise Conflict(f"a record of {kind} exists: {row}")
            if kind == "note_event_heads":
                lowest = self._lowest_kept(record.owner_id, record.seq)
                self._tx.put(table, row, (record.seq, lowest))
                continue
            self._tx.put(table, row, _stored(kind, record))
            if kind == "note_events":
                await self._lower_head(record.owner_id, record.seq)

    def _lowest_kept(self, owner_id: UUID, last: int) -> int:
        kept = [e.seq for e in self._tx.rows("note_events") if e.owner_id == owner_id]
        return min(kept, default=last + 1)

    async def _lower_head(self, owner_id: UUID, seq: int) -> None:
        """An event written after its owner's head: the head's lowest kept may be it."""
        await self._tx.lock("note_event_heads", owner_id)
        head: tuple[int, int] | None = self._tx.get("note_event_heads", owner_id)
        if head is not None and seq < head[1]:
            self._tx.put("note_event_heads", owner_id, (head[0], seq))

    def _add_revision(self, row: tuple[UUID, UUID], revision: Revision) -> None:
        kept: tuple[Revision, ...] = self._tx.get("note_revisions", row) or ()
        if any(r.version == revision.version for r in kept):
            raise Conflict(f"revision {revision.version} of note {revision.note_id} exists")
        ordered = sorted((*kept, revision), key=lambda r: r.version)
        self._tx.put("note_revisions", row, tuple(ordered))

    async def holds_users(self) -> bool:
        return next(iter(self._tx.rows("users")), None) is not None

    async def remove_owner(self, owner_id: UUID) -> None:
        for kind, (table, owner_of, stored_under) in _TABLES.items():
            for record in list(self._all(kind)):
                if owner_of(record) == owner_id:
                    row = stored_under(record)
                    await self._tx.lock(table, row)
                    self._tx.delete(table, row)
        # The shares naming the user from the other side (kept by the other user).
        for share in list(self._tx.rows("note_shares")):
            if share.grantee_id == owner_id:
                self._tx.delete("note_shares", (share.owner_id, share.note_id, owner_id))
        for shared in list(self._tx.rows("shared_notes")):
            if shared.owner_id == owner_id:
                self._tx.delete("shared_notes", (shared.grantee_id, shared.note_id))
        user: User | None = self._tx.get("users", owner_id)
        if user is not None:
            await self._tx.lock("users", owner_id)
            self._tx.delete("users", owner_id)
