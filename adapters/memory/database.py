"""The in-memory database, its unit of work and its repositories.

Each table is a dict of committed rows. A unit of work reads through an overlay of its own
uncommitted writes and publishes the overlay on commit, all at once. Writers lock the rows
they touch (and the unique keys they claim) until they commit or roll back, as PostgreSQL
does, so a second writer waits and then sees the first one's outcome.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Self
from uuid import UUID

from adapters.memory.transfer import MemoryTransfer
from adapters.memory.webhooks import TABLES as webhook_tables
from adapters.memory.webhooks import MemoryWebhookRepository
from application.errors import Conflict, QuotaExceeded
from application.events import EventKind, NoteEvent
from application.finding import NoteFilter, Order, Position, Ranked
from application.idempotency import IdempotencyRecord
from application.quota import Quota, stored_bytes
from domain import Note, User
from domain.access import Relation, SeenNote
from domain.personal_tokens import USE_RECORDED_EVERY, PersonalToken
from domain.revisions import Revision, TrashedNote
from domain.search import relevance, tokens
from domain.sessions import RefreshToken
from domain.sharing import Link, Share, SharedNote

__all__ = ["MemoryDatabase", "MemoryUnitOfWork"]

_DELETED: Final = object()


async def _io() -> None:
    """Give other tasks a turn, as a call to a real database would, so that concurrent
    units of work interleave here as they do on a server."""
    await asyncio.sleep(0)


class MemoryDatabase:
    """The committed state, shared by every unit of work made from it.

    ``MemoryDatabase()`` is one empty database; ``database.unit_of_work`` is a
    ``UnitOfWorkFactory`` over it. With a ``quota``, writes that would take an owner past it
    raise ``QuotaExceeded``.
    """

    def __init__(self, *, quota: Quota | None = None) -> None:
        self.quota = quota
        self.tables: dict[str, dict[Hashable, Any]] = {
            "notes": {},
            "users": {},
            "refresh_tokens": {},
            "login_failures": {},
            "idempotency_keys": {},
            "note_revisions": {},
            "trashed_notes": {},
            "note_events": {},
            "note_event_heads": {},
            "personal_tokens": {},
            **{name: {} for name in webhook_tables},
            "note_shares": {},
            "shared_notes": {},
            "note_links": {},
        }
        self._locks: dict[tuple[str, Hashable], asyncio.Future[None]] = {}

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)

    async def lock(self, table: str, key: Hashable, held: set[tuple[str, Hashable]]) -> None:
        """Take the lock on a row for the holder of ``held``, waiting for its current holder."""
        row = (table, key)
        if row in held:
            return
        while (holder := self._locks.get(row)) is not None:
            await asyncio.shield(holder)
        self._locks[row] = asyncio.get_running_loop().create_future()
        held.add(row)

    def unlock(self, held: set[tuple[str, Hashable]]) -> None:
        for row in held:
            future = self._locks.pop(row, None)
            if future is not None and not future.done():
                future.set_result(None)
        held.clear()


class _Transaction:
    """One unit of work's view: the committed tables overlaid with its own writes."""

    def __init__(self, database: MemoryDatabase) -> None:
        self.database = database
        self.writes: dict[str, dict[Hashable, Any]] = {name: {} for name in database.tables}
        self.locked: set[tuple[str, Hashable]] = set()
        self.events: list[tuple[UUID, UUID, EventKind, int, datetime]] = []
        """Events appended, numbered when the transaction commits (``number_events``)."""

    def get(self, table: str, key: Hashable) -> Any:
        writes = self.writes[table]
        value = writes[key] if key in writes else self.database.tables[table].get(key)
        return None if value is _DELETED else value

    def rows(self, table: str) -> Iterator[Any]:
        return (value for _, value in self.items(table))

    def items(self, table: str) -> Iterator[tuple[Hashable, Any]]:
        """Every row of ``table`` with its key."""
        merged = {**self.database.tables[table], **self.writes[table]}
        return ((key, value) for key, value in merged.items() if value is not _DELETED)

    def put(self, table: str, key: Hashable, value: Any) -> None:
        self.writes[table][key] = value

    def delete(self, table: str, key: Hashable) -> None:
        self.writes[table][key] = _DELETED

    async def lock(self, table: str, key: Hashable) -> None:
        await self.database.lock(table, key, self.locked)

    async def number_events(self) -> None:
        """Give the appended events their owners' next numbers, holding the owners' heads
        until the transaction ends: numbers follow commit order."""
        appended, self.events = self.events, []
        for owner_id in sorted({event[0] for event in appended}):
            await self.lock("note_event_heads", owner_id)
        for owner_id, note_id, kind, version, at in appended:
            last, first = self.get("note_event_heads", owner_id) or (0, 1)
            seq = last + 1
            self.put("note_event_heads", owner_id, (seq, first))
            self.put(
                "note_events", (owner_id, seq), NoteEvent(owner_id, seq, note_id, kind, version, at)
            )

    def publish(self) -> None:
        for name, writes in self.writes.items():
            committed = self.database.tables[name]
            for key, value in writes.items():
                if value is _DELETED:
                    committed.pop(key, None)
                else:
                    committed[key] = value
        self.discard()

    def discard(self) -> None:
        self.events = []
        for writes in self.writes.values():
            writes.clear()
        self.database.unlock(self.locked)


class MemoryUnitOfWork:
    """One transaction over a ``MemoryDatabase``: writes are buffered until ``commit()``."""

    def __init__(self, database: MemoryDatabase) -> None:
        self._tx = _Transaction(database)
        self.notes = MemoryNoteRepository(self._tx, self.commit)
        self.revisions = MemoryRevisionRepository(self._tx)
        self.trashed = MemoryTrashRepository(self._tx)
        self.users = MemoryUserRepository(self._tx)
        self.shares = MemoryShareRepository(self._tx)
        self.links = MemoryLinkRepository(self._tx)
        self.refresh_tokens = MemoryRefreshTokenRepository(self._tx)
        self.login_failures = MemoryLoginFailures(self._tx)
        self.idempotency_keys = MemoryIdempotencyKeys(self._tx)
        self.retention = MemoryRetention(self._tx)
        self.events = MemoryEventLog(self._tx)
        self.personal_tokens = MemoryPersonalTokens(self._tx)
        self.webhooks = MemoryWebhookRepository(self._tx, self._event_head)
        self.transfer = MemoryTransfer(self._tx)

    def _event_head(self, owner_id: UUID) -> int:
        """The seq of the owner's last event, as this unit of work sees it (0: none)."""
        last, _ = self._tx.get("note_event_heads", owner_id) or (0, 1)
        return int(last)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        await self._tx.number_events()
        self._tx.publish()

    async def rollback(self) -> None:
        self._tx.discard()


class MemoryNoteRepository:
    """Notes keyed by (owner id, note id), as the SQL table's primary key."""

    def __init__(self, tx: _Transaction, commit: Callable[[], Awaitable[None]]) -> None:
        self._tx = tx
        self._commit = commit

    async def add(self, note: Note) -> None:
        await _io()
        row = (note.owner_id, note.id)
        await self._tx.lock("notes", row)
        if self._tx.get("notes", row) is not None:
            raise Conflict(f"a note with id {note.id} exists")
        await self._check_quota(note.owner_id, [note])
        self._tx.put("notes", row, note)
        _keep_revision(self._tx, note)

    async def add_many(self, notes: Sequence[Note]) -> None:
        await _io()
        rows = [(note.owner_id, note.id) for note in notes]
        for row in rows:
            await self._tx.lock("notes", row)
        taken = [row[1] for row in rows if self._tx.get("notes", row) is not None]
        if taken or len(set(rows)) != len(notes):
            raise Conflict(f"notes with these ids exist: {taken}")
        for owner_id in {note.owner_id for note in notes}:
            await self._check_quota(owner_id, [n for n in notes if n.owner_id == owner_id])
        for row, note in zip(rows, notes, strict=True):
            self._tx.put("notes", row, note)
            _keep_revision(self._tx, note)

    def _owned(self, owner_id: UUID, note_id: UUID) -> Note | None:
        note: Note | None = self._tx.get("notes", (owner_id, note_id))
        return note

    async def get(self, owner_id: UUID, note_id: UUID, *, for_update: bool = False) -> Note | None:
        await _io()
        if for_update:
            await self._tx.lock("notes", (owner_id, note_id))
        return self._owned(owner_id, note_id)

    async def get_many(self, owner_id: UUID, note_ids: Sequence[UUID]) -> builtins.list[Note]:
        await _io()
        found = (self._owned(owner_id, note_id) for note_id in dict.fromkeys(note_ids))
        return [note for note in found if note is not None]

    async def visible(
        self, caller_id: UUID, note_id: UUID, *, for_update: bool = False
    ) -> SeenNote | None:
        await _io()
        share: SharedNote | None = self._tx.get("shared_notes", (caller_id, note_id))
        owner_id, relation = (
            (caller_id, Relation.OWNER) if share is None else (share.owner_id, share.permission)
        )
        if for_update:
            await self._tx.lock("notes", (owner_id, note_id))
        note = self._owned(owner_id, note_id)
        return None if note is None else SeenNote(note, relation)

    async def find_shared(
        self,
        grantee_id: UUID,
        where: NoteFilter,
        order: Order,
        *,
        limit: int,
        after: Position | None = None,
    ) -> builtins.list[Ranked]:
        await _io()
        shared = (
            self._owned(share.owner_id, share.note_id)
            for share in self._tx.rows("shared_notes")
            if share.grantee_id == grantee_id
        )
        found = [
            Ranked(note, _score(note, where) if order == "relevance" else 0.0)
            for note in shared
            if note is not None and _passes(note, where)
        ]
        return _page(found, order, limit=limit, after=after, skip=0)

    async def list(self, owner_id: UUID, *, limit: int, skip: int = 0) -> list[Note]:
        await _io()
        notes: list[Note] = sorted(
            (note for note in self._tx.rows("notes") if note.owner_id == owner_id),
            key=lambda note: (note.created_date, note.id),
            reverse=True,
        )
        return notes[skip : skip + limit]

    async def find(
        self,
        owner_id: UUID,
        where: NoteFilter,
        order: Order,
        *,
        limit: int,
        after: Position | None = None,
        skip: int = 0,
    ) -> builtins.list[Ranked]:
        await _io()
        found = [
            Ranked(note, _score(note, where) if order == "relevance" else 0.0)
            for note in self._tx.rows("notes")
            if note.owner_id == owner_id and _passes(note, where)
        ]
        return _page(found, order, limit=limit, after=after, skip=skip)

    async def update(self, note: Note, *, expected_version: int, oldest_kept: int = 1) -> bool:
        await _io()
        row = (note.owner_id, note.id)
        await self._tx.lock("notes", row)
        current = self._owned(note.owner_id, note.id)
        if current is None or current.version != expected_version:
            return False
        await self._check_quota(note.owner_id, [note], replacing=current)
        self._tx.put("notes", row, note)
        _keep_revision(self._tx, note)
        _prune(self._tx, note.owner_id, note.id, oldest_kept)
        return True

    async def update_and_commit(
        self, note: Note, *, expected_version: int, oldest_kept: int = 1
    ) -> bool:
        if not await self.update(note, expected_version=expected_version, oldest_kept=oldest_kept):
            return False
        await self._commit()
        return True

    async def trash(
        self, owner_id: UUID, note_id: UUID, *, expected_version: int, at: datetime
    ) -> bool:
        await _io()
        row = (owner_id, note_id)
        await self._tx.lock("notes", row)
        current = self._owned(owner_id, note_id)
        if current is None or current.version != expected_version:
            return False
        await self._tx.lock("trashed_notes", row)
        self._tx.delete("notes", row)
        self._tx.put("trashed_notes", row, TrashedNote(note=current, deleted_date=at))
        return True

    async def _check_quota(
        self, owner_id: UUID, added: Sequence[Note], *, replacing: Note | None = None
    ) -> None:
        """``QuotaExceeded`` if storing ``added`` (instead of ``replacing``) takes the owner
        past the quota. The owner's lock serialises the check with concurrent writes."""
        quota = self._tx.database.quota
        if quota is None:
            return
        await self._tx.lock("note_usage", owner_id)
        owned = [n for n in self._tx.rows("notes") if n.owner_id == owner_id]
        notes = len(owned) + (0 if replacing is not None else len(added))
        size = sum(map(stored_bytes, owned)) + sum(map(stored_bytes, added))
        if replacing is not None:
            size -= stored_bytes(replacing)
        if replacing is None and notes > quota.max_notes:
            raise QuotaExceeded("notes")
        if size > quota.max_bytes and (replacing is None or size > sum(map(stored_bytes, owned))):
            raise QuotaExceeded("stored bytes")

    async def delete(
        self, owner_id: UUID, note_id: UUID, *, expected_version: int | None = None
    ) -> bool:
        await _io()
        await self._tx.lock("notes", (owner_id, note_id))
        current = self._owned(owner_id, note_id)
        if current is None or (
            expected_version is not None and current.version != expected_version
        ):
            return False
        self._tx.delete("notes", (owner_id, note_id))
        _prune(self._tx, owner_id, note_id, None)
        return True


def _page(
    found: list[Ranked], order: Order, *, limit: int, after: Position | None, skip: int
) -> list[Ranked]:
    key = _SORT_KEYS[order]
    ascending = order == "created_asc"
    found.sort(key=key, reverse=not ascending)
    if after is not None:
        mark = _position_key(order, after)
        found = [r for r in found if (key(r) > mark if ascending else key(r) < mark)]
    return found[skip : skip + limit]


def _kept(tx: _Transaction, owner_id: UUID, note_id: UUID) -> tuple[Revision, ...]:
    """The note's revisions, oldest first (one row per note, guarded by the note's lock)."""
    kept: tuple[Revision, ...] = tx.get("note_revisions", (owner_id, note_id)) or ()
    return kept


def _keep_revision(tx: _Transaction, note: Note) -> None:
    kept = _kept(tx, note.owner_id, note.id)
    tx.put("note_revisions", (note.owner_id, note.id), (*kept, Revision.of(note)))


def _prune(tx: _Transaction, owner_id: UUID, note_id: UUID, oldest_kept: int | None) -> None:
    """Drop the note's revisions older than ``oldest_kept``; all of them for ``None``."""
    if oldest_kept is None:
        tx.delete("note_revisions", (owner_id, note_id))
        return
    kept = _kept(tx, owner_id, note_id)
    tx.put(
        "note_revisions", (owner_id, note_id), tuple(r for r in kept if r.version >= oldest_kept)
    )


class MemoryRevisionRepository:
    """Each note's revisions under its (owner id, note id)."""

    def __init__(self, tx: _Transaction) -> None:
        self._tx = tx

    async def list(
        self, owner_id: UUID, note_id: UUID, *, limit: int, before: int | None = None
    ) -> builtins.list[Revision]:
        await _io()
        found = [
            r
            for r in reversed(_kept(self._tx, owner_id, note_id))
            if before is None or r.version < before
        ]
        return found[:limit]

    async def get(self, owner_id: UUID, note_id: UUID, version: int) -> Revision | None:
        await _io()
        return next((r for r in _kept(self._tx, owner_id, note_id) if r.version == version), None)

    async def prune(self, owner_id: UUID, note_id: UUID, oldest_kept: int) -> None:
        await _io()
        await self._tx.lock("notes", (owner_id, note_id))
        _prune(self._tx, owner_id, note_id, oldest_kept)


class MemoryTrashRepository:
    """Trashed notes keyed by (owner id, note id), as the SQL table's primary key."""

    def __init__(self, tx: _Transaction) -> None:
        self._tx = tx

    async def list(
        self, owner_id: UUID, *, limit: int, after: tuple[datetime, UUID] | None = None
    ) -> builtins.list[TrashedNote]:
        await _io()
        found = sorted(
            (t for t in self._tx.rows("trashed_notes") if t.note.owner_id == owner_id),
            key=lambda t: (t.deleted_date, t.note.id),
            reverse=True,
        )
        if after is not None:
            found = [t for t in found if (t.deleted_date, t.note.id) < after]
        return found[:limit]

    async def get(self, owner_id: UUID, note_id: UUID) -> TrashedNote | None:
        await _io()
        trashed: TrashedNote | None = self._tx.get("trashed_notes", (owner_id, note_id))
        return trashed

    async def take(self, owner_id: UUID, note_id: UUID) -> TrashedNote | None:
        await _io()
        row = (owner_id, note_id)
        await self._tx.lock("trashed_notes", row)
        trashed: TrashedNote | None = self._tx.get("trashed_notes", row)
        if trashed is not None:
            self._tx.delete("trashed_notes", row)
        return trashed

    async def delete(self, owner_id: UUID, note_id: UUID) -> TrashedNote | None:
        trashed = await self.take(owner_id, note_id)
        if trashed is not None:
            _prune(self._tx, owner_id, note_id, None)
        return trashed

    async def purge(self, deleted_before: datetime) -> builtins.list[TrashedNote]:
        await _io()
        expired = [t for t in self._tx.rows("trashed_notes") if t.deleted_date < deleted_before]
        purged = []
        for trashed in expired:
            row = (trashed.note.owner_id, trashed.note.id)
            await self._tx.lock("trashed_notes", row)
            current: TrashedNote | None = self._tx.get("trashed_notes", row)
            if current is None:
                continue
            self._tx.delete("trashed_notes", row)
            _prune(self._tx, *row, None)
            purged.append(current)
            _forget_sharing(self._tx, *row)
        return purged


def _searchable(note: Note) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tokens(note.title.value), tokens(note.description.value)


def _passes(note: Note, where: NoteFilter) -> bool:
    if where.tags and not set(where.tags).issubset(note.tags.values):
        return False
    return where.search is None or where.search.matches(*_searchable(note))


def _score(note: Note, where: NoteFilter) -> float:
    return 0.0 if where.search is None else relevance(where.search, *_searchable(note))


_SortKey = tuple[Any, ...]
_SORT_KEYS: Final[dict[str, Callable[[Ranked], _SortKey]]] = {
    "created_desc": lambda r: (r.note.created_date, r.note.id),
    "created_asc": lambda r: (r.note.created_date, r.note.id),
    "updated_desc": lambda r: (r.note.updated_date, r.note.id),
    "relevance": lambda r: (r.score, r.note.created_date, r.note.id),
}


def _position_key(order: str, position: Position) -> _SortKey:
    if order == "relevance":
        return (position.score, position.moment, position.id)
    return (position.moment, position.id)


def _forget_sharing(tx: _Transaction, owner_id: UUID, note_id: UUID) -> None:
    """Drop every share and link of a note deleted for good."""
    for share in list(tx.rows("note_shares")):
        if share.owner_id == owner_id and share.note_id == note_id:
            tx.delete("note_shares", (owner_id, note_id, share.grantee_id))
            tx.delete("shared_notes", (share.grantee_id, note_id))
    for link in list(tx.rows("note_links")):
        if link.owner_id == owner_id and link.note_id == note_id:
            tx.delete("note_links", (owner_id, link.id))


class MemoryShareRepository:
    """Shares keyed by (owner id, note id, grantee id), and the grantee's index keyed by
    (grantee id, note id), as the SQL tables; the note's lock guards both."""

    def __init__(self, tx: _Transaction) -> None:
        self._tx = tx

    async def put(self, share: Share) -> Share:
        await _io()
        await self._tx.lock("notes", (share.owner_id, share.note_id))
        row = (share.owner_id, share.note_id, share.grantee_id)
        earlier: Share | None = self._tx.get("note_shares", row)
        if earlier is not None:
            share = replace(share, created_date=earlier.created_date)
        self._tx.put("note_shares", row, share)
        # The grantee's index, from the note (as the SQL index is written from ``notes``).
        note: Note | None = self._tx.get("notes", (share.owner_id, share.note_id))
        if note is not None:
            indexed = SharedNote(
                grantee_id=share.grantee_id,
                note_id=share.note_id,
                owner_id=share.owner_id,
                permission=share.permission,
                note_created_date=note.created_date,
            )
            self._tx.put("shared_notes", (share.grantee_id, share.note_id), indexed)
        return share

    async def list(self, owner_id: UUID, note_id: UUID) -> builtins.list[Share]:
        await _io()
        return sorted(
            (
                s
                for s in self._tx.rows("note_shares")
                if s.owner_id == owner_id and s.note_id == note_id
            ),
            key=lambda s: (s.created_date, s.grantee_id),
        )

    async def delete(self, owner_id: UUID, note_id: UUID, grantee_id: UUID) -> bool:
        await _io()
        await self._tx.lock("notes", (owner_id, note_id))
        row = (owner_id, note_id, grantee_id)
        if self._tx.get("note_shares", row) is None:
            return False
        self._tx.delete("note_shares", row)
        self._tx.delete("shared_notes", (grantee_id, note_id))
        return True

    async def delete_note(self, owner_id: UUID, note_id: UUID) -> None:
        await _io()
        _forget_sharing(self._tx, owner_id, note_id)


class MemoryLinkRepository:
    """Links keyed by (owner id, link id)."""

    def __init__(self, tx: _Transaction) -> None:
        self._tx = tx

    async def add(self, link: Link) -> None:
        await _io()
        self._tx.put("note_links", (link.owner_id, link.id), link)

    async def list(self, owner_id: UUID, note_id: UUID) -> builtins.list[Link]:
        await _io()
        return sorted(
            (
                k
                for k in self._tx.rows("note_links")
                if k.owner_id == owner_id and k.note_id == note_id
            ),
            key=lambda k: (k.created_date, k.id),
        )

    async def delete(self, owner_id: UUID, note_id: UUID, link_id: UUID) -> bool:
        await _io()
        row = (owner_id, link_id)
        await self._tx.lock("note_links", row)
        link: Link | None = self._tx.get("note_links", row)
        if link is None or link.note_id != note_id:
            return False
        self._tx.delete("note_links", row)
        return True

    async def delete_note(self, owner_id: UUID, note_id: UUID) -> None:
        await _io()
        for link in list(self._tx.rows("note_links")):
            if link.owner_id == owner_id and link.note_id == note_id:
                self._tx.delete("note_links", (owner_id, link.id))

    async def note(self, owner_id: UUID, token_hash: str, now: datetime) -> Note | None:
        await _io()
        link = next(
            (
                k
                for k in self._tx.rows("note_links")
                if k.owner_id == owner_id and k.token_hash == token_hash
            ),
            None,
        )
        if link is None or not link.works_at(now):
            return None
        note: Note | None = self._tx.get("notes", (owner_id, link.note_id))
        return note


class MemoryUserRepository:
    def __init__(self, tx: _Transaction) -> None:
        self._tx = tx

    async def add(self, user: User) -> None:
        await _io()
        # The lock on the username stands in for a unique index's.
        await self._tx.lock("users.username", user.username.key)
        await self._tx.lock("users", user.id)
        if self._tx.get("users", user.id) is not None or await self.get_by_username(
            user.username.key
        ):
            raise Conflict(f"the username {user.username.value!r} is taken")
        self._tx.put("users", user.id, user)

    async def get(self, user_id: UUID) -> User | None:
        await _io()
        user: User | None = self._tx.get("users", user_id)
        return user

    async def get_by_username(self, key: str) -> User | None:
        await _io()
        return next((u for u in self._tx.rows("users") if u.username.key == key), None)

    async def usernames(self, user_ids: Sequence[UUID]) -> dict[UUID, str]:
        await _io()
        wanted = set(user_ids)
        return {u.id: u.username.value for u in self._tx.rows("users") if u.id in wanted}


class MemoryRefreshTokenRepository:
    """Refresh tokens keyed by (user id, token hash), as the SQL table's unique key."""

    def __init__(self, tx: _Transaction) -> None:
        self._tx = tx

    async def add(self, token: RefreshToken) -> None:
        await _io()
        row = (token.user_id, token.token_hash)
        await self._tx.lock("refresh_tokens", row)
        if self._tx.get("refresh_tokens", row) is not None or any(
            t.user_id == token.user_id and t.id == token.id for t in self._tx.rows("refresh_tokens")
        ):
            raise Conflict("refresh token exists")
        self._tx.put("refresh_tokens", row, token)

    async def get_by_hash(
        self, user_id: UUID, token_hash: str, *, for_update: bool = False
    ) -> RefreshToken | None:
        await _io()
        row = (user_id, token_hash)
        if for_update:
            await self._tx.lock("refresh_tokens", row)
        token: RefreshToken | None = self._tx.get("refresh_tokens", row)
        return token

    async def save(self, token: RefreshToken) -> None:
        await _io()
        row = (token.user_id, token.token_hash)
        await self._tx.lock("refresh_tokens", row)
        self._tx.put("refresh_tokens", row, token)

    async def revoke_family(self, user_id: UUID, family_id: UUID, at: datetime) -> None:
        await _io()
        family = [
            t
            for t in self._tx.rows("refresh_tokens")
            if t.user_id == user_id and t.family_id == family_id
        ]
        for token in family:
            row = (token.user_id, token.token_hash)
            await self._tx.lock("refresh_tokens", row)
            current: RefreshToken = self._tx.get("refresh_tokens", row)
            if current.revoked_at is None:
                self._tx.put("refresh_tokens", row, _revoked(current, at))


def _revoked(token: RefreshToken, at: datetime) -> RefreshToken:
    return replace(token, revoked_at=at)


class MemoryLoginFailures:
    """Per username key: a tuple of (moment, client address) pairs."""

    def __init__(self, tx: _Transaction) -> None:
        self._tx = tx

    async def record(
        self, key: str, at: datetime, *, keep_since: datetime, client: str = ""
    ) -> None:
        await _io()
        await self._tx.lock("login_failures", key)
        kept = tuple(a for a in self._tx.get("login_failures", key) or () if a[0] >= keep_since)
        self._tx.put("login_failures", key, (*kept, (at, client)))

    async def since(self, key: str, since: datetime) -> list[datetime]:
        return [at for at, _ in await self.attempts(key, since)]

    async def attempts(self, key: str, since: datetime) -> list[tuple[datetime, str]]:
        await _io()
        return sorted(a for a in self._tx.get("login_failures", key) or () if a[0] >= since)

    async def clear(self, key: str, *, client: str | None = None) -> None:
        await _io()
        await self._tx.lock("login_failures", key)
        kept = tuple(
            a
            for a in self._tx.get("login_failures", key) or ()
            if client is not None and a[1] != client
        )
        if kept:
            self._tx.put("login_failures", key, kept)
        else:
            self._tx.delete("login_failures", key)


class MemoryRetention:
    def __init__(self, tx: _Transaction) -> None:
        self._tx = tx

    async def forget_login_failures(self, before: datetime) -> int:
        await _io()
        forgotten = 0
        for key, attempts in list(self._tx.database.tables["login_failures"].items()):
            await self._tx.lock("login_failures", key)
            kept = tuple(a for a in self._tx.get("login_failures", key) or () if a[0] >= before)
            forgotten += len(attempts) - len(kept)
            if kept:
                self._tx.put("login_failures", key, kept)
            else:
                self._tx.delete("login_failures", key)
        return forgotten

    async def forget_refresh_tokens(self, expired_before: datetime) -> int:
        return await self._forget("refresh_tokens", expired_before)

    async def forget_idempotency_keys(self, expired_before: datetime) -> int:
        return await self._forget("idempotency_keys", expired_before)

    async def _forget(self, table: str, expired_before: datetime) -> int:
        await _io()
        forgotten = 0
        for key, row in list(self._tx.database.tables[table].items()):
            if row.expires_at < expired_before:
                await self._tx.lock(table, key)
                self._tx.delete(table, key)
                forgotten += 1
        return forgotten


class MemoryIdempotencyKeys:
    def __init__(self, tx: _Transaction) -> None:
        self._tx = tx

    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        await _io()
        row = (record.owner_id, record.key)
        await self._tx.lock("idempotency_keys", row)
        earlier: IdempotencyRecord | None = self._tx.get("idempotency_keys", row)
        if earlier is not None:
            return earlier
        self._tx.put("idempotency_keys", row, record)
        return None

    async def forget_expired(self, owner_id: UUID, now: datetime) -> None:
        await _io()
        for record in list(self._tx.rows("idempotency_keys")):
            if record.owner_id == owner_id and record.expires_at <= now:
                row = (record.owner_id, record.key)
                await self._tx.lock("idempotency_keys", row)
                self._tx.delete("idempotency_keys", row)


class MemoryEventLog:
    """Events keyed by (owner id, seq), and per owner a head row ``(last seq, lowest kept
    seq)``. As on PostgreSQL, an appended event is numbered when its unit of work commits,
    which locks the owner's head row until it ends."""

    def __init__(self, tx: _Transaction) -> None:
        self._tx = tx

    async def append(
        self, owner_id: UUID, note_id: UUID, kind: EventKind, version: int, at: datetime
    ) -> None:
        await _io()
        self._tx.events.append((owner_id, note_id, kind, version, at))

    async def after(self, owner_id: UUID, seq: int, *, limit: int) -> builtins.list[NoteEvent]:
        await _io()
        last, first = self._tx.get("note_event_heads", owner_id) or (0, 1)
        found: builtins.list[NoteEvent] = []
        # Walked by number from the lowest kept (a rolled-back append hands none out).
        number = max(seq + 1, first)
        while number <= last and len(found) < limit:
            event: NoteEvent | None = self._tx.get("note_events", (owner_id, number))
            if event is not None:
                found.append(event)
            number += 1
        return found

    async def oldest_kept(self, owner_id: UUID) -> int | None:
        await _io()
        last, first = self._tx.get("note_event_heads", owner_id) or (0, 1)
        return first if first <= last else None

    async def last(self, owner_id: UUID) -> int:
        await _io()
        last, _ = self._tx.get("note_event_heads", owner_id) or (0, 1)
        return int(last)

    async def prune(self, before: datetime) -> int:
        await _io()
        pruned = 0
        for key, event in list(self._tx.database.tables["note_events"].items()):
            if event.at < before:
                self._tx.delete("note_events", key)
                pruned += 1
        for owner_id in list(self._tx.database.tables["note_event_heads"]):
            await self._tx.lock("note_event_heads", owner_id)
            last, first = self._tx.get("note_event_heads", owner_id)
            while first <= last and self._tx.get("note_events", (owner_id, first)) is None:
                first += 1
            self._tx.put("note_event_heads", owner_id, (last, first))
        return pruned


class MemoryPersonalTokens:
    """Personal access tokens keyed by (owner id, token id), as the SQL table's key."""

    def __init__(self, tx: _Transaction) -> None:
        self._tx = tx

    async def add(self, token: PersonalToken) -> None:
        await _io()
        row = (token.owner_id, token.id)
        await self._tx.lock("personal_tokens", row)
        if self._tx.get("personal_tokens", row) is not None:
            raise Conflict("personal access token exists")
        self._tx.put("personal_tokens", row, token)

    async def get(self, owner_id: UUID, token_id: UUID) -> PersonalToken | None:
        await _io()
        token: PersonalToken | None = self._tx.get("personal_tokens", (owner_id, token_id))
        return token

    async def list(self, owner_id: UUID) -> builtins.list[PersonalToken]:
        await _io()
        owned = [t for t in self._tx.rows("personal_tokens") if t.owner_id == owner_id]
        return sorted(owned, key=lambda t: (t.created_date, t.id), reverse=True)

    async def delete(self, owner_id: UUID, token_id: UUID) -> bool:
        await _io()
        row = (owner_id, token_id)
        await self._tx.lock("personal_tokens", row)
        if self._tx.get("personal_tokens", row) is None:
            return False
        self._tx.delete("personal_tokens", row)
        return True

    async def record_use(self, owner_id: UUID, token_id: UUID, at: datetime) -> None:
        await _io()
        row = (owner_id, token_id)
        await self._tx.lock("personal_tokens", row)
        token: PersonalToken | None = self._tx.get("personal_tokens", row)
        if token is not None and (
            token.last_used_date is None or token.last_used_date <= at - USE_RECORDED_EVERY
        ):
            self._tx.put("personal_tokens", row, replace(token, last_used_date=at))

    async def forget_expired(self, before: datetime) -> int:
        await _io()
        forgotten = 0
        for row, token in list(self._tx.database.tables["personal_tokens"].items()):
            if token.expires_date < before:
                await self._tx.lock("personal_tokens", row)
                self._tx.delete("personal_tokens", row)
                forgotten += 1
        return forgotten
