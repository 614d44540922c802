"""The SQL side of ``application.transfer``: every owner's records, read by keyset and
written a batch a statement (``dialects.bulk_insert``).

Each kind is a ``_Kind``: its table, the columns of its key (after the owner column, in
the table's primary key order) and how a record becomes a row and back. Every statement
on a per-user table names its owner by equality; only ``users`` (a reference table) is
read across owners.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

import sqlalchemy as sa

from adapters.sqlalchemy.dialects import bulk_insert
from adapters.sqlalchemy.notes import note_row, to_note
from adapters.sqlalchemy.personal_tokens import token_of, token_row
from adapters.sqlalchemy.revisions import to_revision
from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.sharing import share_of
from adapters.sqlalchemy.tables import (
    idempotency_keys,
    note_event_heads,
    note_events,
    note_links,
    note_revisions,
    note_shares,
    note_usage,
    notes,
    owner_column,
    personal_tokens,
    refresh_tokens,
    shared_notes,
    trashed_notes,
    users,
)
from adapters.sqlalchemy.webhook_tables import webhook_deliveries, webhooks
from adapters.sqlalchemy.webhooks import delivery_of, state_of, webhook_of
from application.events import EventHead, NoteEvent
from application.idempotency import IdempotencyRecord
from application.transfer import KINDS, Key
from application.webhook_ports import StoredWebhook
from domain import User, Username
from domain.access import PERMISSIONS
from domain.revisions import Revision, TrashedNote
from domain.sessions import RefreshToken
from domain.sharing import Link, Share, SharedNote

__all__ = ["SqlTransfer"]


def _revision_row(revision: Revision) -> dict[str, Any]:
    return {
        "owner_id": revision.owner_id,
        "note_id": revision.note_id,
        "version": revision.version,
        "title": revision.title.value,
        "description": revision.description.value,
        "tags": list(revision.tags.values),
        "updated_date": revision.updated_date,
    }


def _trashed_row(trashed: TrashedNote) -> dict[str, Any]:
    row = note_row(trashed.note)
    del row["search_title"], row["search_body"]
    return {**row, "deleted_date": trashed.deleted_date}


def _webhook_row(stored: StoredWebhook) -> dict[str, Any]:
    webhook, state = stored.webhook, stored.state
    # A worker's lease on the source is not carried: the target's workers start afresh.
    return {
        "owner_id": webhook.owner_id,
        "id": webhook.id,
        "url": webhook.url.value,
        "events": " ".join(webhook.events.values),
        "secret_seed": webhook.secret_seed,
        "created_date": webhook.created_date,
        "cursor": state.cursor,
        "attempts": state.attempts,
        "first_failed_at": state.first_failed_at,
        "retry_at": state.retry_at,
        "claimed_until": None,
        "claim_token": None,
    }


def _share_row(share: Share) -> dict[str, Any]:
    return {
        "owner_id": share.owner_id,
        "note_id": share.note_id,
        "grantee_id": share.grantee_id,
        "permission": share.permission.value,
        "created_date": share.created_date,
    }


def _shared_note(row: Mapping[str, Any]) -> SharedNote:
    return SharedNote(
        grantee_id=row["grantee_id"],
        note_id=row["note_id"],
        owner_id=row["owner_id"],
        permission=PERMISSIONS[row["permission"]],
        note_created_date=row["note_created_date"],
    )


def _shared_note_row(shared: SharedNote) -> dict[str, Any]:
    return {
        "grantee_id": shared.grantee_id,
        "note_id": shared.note_id,
        "owner_id": shared.owner_id,
        "permission": shared.permission.value,
        "note_created_date": shared.note_created_date,
    }


def _columns_of(table: sa.Table) -> Callable[[Any], dict[str, Any]]:
    """A record whose attributes are named as ``table``'s columns, as a row."""
    names = tuple(column.name for column in table.c)
    return lambda record: {name: getattr(record, name) for name in names}


def _made_of(table: sa.Table, kind: type[Any]) -> Callable[[Mapping[str, Any]], Any]:
    """A row of ``table`` as a ``kind`` made from every column, by name."""
    names = tuple(column.name for column in table.c)
    return lambda row: kind(**{name: row[name] for name in names})


@dataclass(frozen=True, slots=True)
class _Kind:
    table: sa.Table
    key: tuple[str, ...]
    row_of: Callable[[Any], dict[str, Any]]
    record_of: Callable[[Mapping[str, Any]], Any]
    # The columns read back: the search columns are derived and rebuilt on writing.
    read: tuple[str, ...] = ()
    # Read with the name of the user ``grantee_id`` names (a share's grantee).
    grantee_name: bool = False


_NOTE_COLUMNS: Final = (
    "id",
    "owner_id",
    "title",
    "description",
    "tags",
    "created_date",
    "updated_date",
    "version",
)

_KINDS: Final[dict[str, _Kind]] = {
    "notes": _Kind(notes, ("id",), note_row, to_note, _NOTE_COLUMNS),
    "note_revisions": _Kind(note_revisions, ("note_id", "version"), _revision_row, to_revision),
    "trashed_notes": _Kind(
        trashed_notes,
        ("id",),
        _trashed_row,
        lambda row: TrashedNote(note=to_note(row), deleted_date=row["deleted_date"]),
    ),
    "refresh_tokens": _Kind(
        refresh_tokens, ("id",), _columns_of(refresh_tokens), _made_of(refresh_tokens, RefreshToken)
    ),
    "idempotency_keys": _Kind(
        idempotency_keys,
        ("key",),
        _columns_of(idempotency_keys),
        _made_of(idempotency_keys, IdempotencyRecord),
    ),
    "personal_tokens": _Kind(personal_tokens, ("id",), token_row, token_of),
    "note_events": _Kind(
        note_events, ("seq",), _columns_of(note_events), _made_of(note_events, NoteEvent)
    ),
    "note_event_heads": _Kind(
        note_event_heads,
        ("owner_id",),
        _columns_of(note_event_heads),
        _made_of(note_event_heads, EventHead),
    ),
    "webhooks": _Kind(
        webhooks,
        ("id",),
        _webhook_row,
        lambda row: StoredWebhook(webhook_of(row), state_of(row)),
    ),
    "webhook_deliveries": _Kind(
        webhook_deliveries, ("webhook_id", "id"), _columns_of(webhook_deliveries), delivery_of
    ),
    "note_shares": _Kind(
        note_shares, ("note_id", "grantee_id"), _share_row, share_of, grantee_name=True
    ),
    "shared_notes": _Kind(shared_notes, ("note_id", "owner_id"), _shared_note_row, _shared_note),
    "note_links": _Kind(note_links, ("id",), _columns_of(note_links), _made_of(note_links, Link)),
}
assert set(_KINDS) == {kind.name for kind in KINDS}, "every kind needs its table here"


def _pages(kind: _Kind) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The first page of one owner's records, and a page after a key: keyset statements
    built once, with the owner, the key and the limit as parameters."""
    table = kind.table
    owner = table.c[owner_column(table) or ""]
    columns = [table.c[name] for name in kind.read] if kind.read else list(table.c)
    key = [table.c[name] for name in kind.key]
    source: sa.FromClause = table
    if kind.grantee_name:
        columns.append(users.c.username)
        source = table.join(users, users.c.id == table.c.grantee_id)
    first = (
        sa.select(*columns)
        .select_from(source)
        .where(owner == sa.bindparam("owner"))
        .order_by(*key)
        .limit(sa.bindparam("limit"))
    )
    after: list[sa.BindParameter[Any]] = [
        sa.bindparam(f"after_{index}", type_=column.type) for index, column in enumerate(key)
    ]
    # A row-value comparison (PostgreSQL, SQLite 3.15+, MySQL) walks the key's index.
    beyond = key[0] > after[0] if len(key) == 1 else sa.tuple_(*key) > sa.tuple_(*after)
    return first, first.where(beyond)


_PAGES: Final = {name: _pages(kind) for name, kind in _KINDS.items()}
_USERS_FIRST = (
    sa.select(users.c.id, users.c.username, users.c.password_hash, users.c.created_date)
    .order_by(users.c.id)
    .limit(sa.bindparam("limit"))
)
_USERS_AFTER = _USERS_FIRST.where(users.c.id > sa.bindparam("after"))
_ANY_USER = sa.select(users.c.id).limit(sa.bindparam("limit"))
# Notes first: deleting a note updates its owner's usage row, which goes after it.
_OWNED: Final = (
    notes,
    note_revisions,
    trashed_notes,
    refresh_tokens,
    idempotency_keys,
    personal_tokens,
    note_events,
    note_event_heads,
    webhook_deliveries,
    webhooks,
    note_shares,
    shared_notes,
    note_links,
    note_usage,
)
_REMOVALS: Final = tuple(
    table.delete().where(table.c[owner_column(table) or ""] == sa.bindparam("owner"))
    for table in _OWNED
)
# The shares naming the user from the other side (the grantee's in ``note_shares``, the
# sharer's in another grantee's ``shared_notes``) go with the user row, by their foreign
# keys' ON DELETE CASCADE: a statement naming them would not name their owners.
_REMOVE_USER = users.delete().where(users.c.id == sa.bindparam("owner"))


class SqlTransfer:
    def __init__(self, uow: Session) -> None:
        self._uow = uow

    async def users(self, *, after: UUID | None, limit: int) -> builtins.list[User]:
        statement = _USERS_FIRST if after is None else _USERS_AFTER
        parameters: dict[str, Any] = {"limit": limit, "after": after}
        if after is None:
            del parameters["after"]
        rows = await self._uow.fetch_all(statement, parameters)
        return [
            User(
                id=row["id"],
                username=Username(row["username"]),
                password_hash=row["password_hash"],
                created_date=row["created_date"],
            )
            for row in rows
        ]

    async def records(
        self, kind: str, owner_id: UUID, *, after: Key | None, limit: int
    ) -> builtins.list[Any]:
        first, later = _PAGES[kind]
        parameters: dict[str, Any] = {"owner": owner_id, "limit": limit}
        statement = first
        if after is not None:
            statement = later
            parameters.update({f"after_{index}": value for index, value in enumerate(after)})
        rows = await self._uow.fetch_all(statement, parameters)
        record_of = _KINDS[kind].record_of
        return [record_of(row) for row in rows]

    async def add_users(self, added: Sequence[User]) -> None:
        rows = [
            {
                "id": user.id,
                "username": user.username.value,
                "username_key": user.username.key,
                "password_hash": user.password_hash,
                "created_date": user.created_date,
            }
            for user in added
        ]
        if rows:
            await self._uow.execute(*bulk_insert(users, self._uow.dialect, rows), write=True)

    async def add_records(self, kind: str, records: Sequence[Any]) -> None:
        described = _KINDS[kind]
        rows = [described.row_of(record) for record in records]
        if rows:
            statement, parameters = bulk_insert(described.table, self._uow.dialect, rows)
            await self._uow.execute(statement, parameters, write=True)

    async def holds_users(self) -> bool:
        return await self._uow.fetch_one(_ANY_USER, {"limit": 1}) is not None

    async def remove_owner(self, owner_id: UUID) -> None:
        for statement in (*_REMOVALS, _REMOVE_USER):
            await self._uow.execute(statement, {"owner": owner_id}, write=True)
