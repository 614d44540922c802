"""The SQL repositories of shares and public links.

A share is written twice in one transaction: in ``note_shares`` (keyed by the owner: the
record, listed and changed by the owner) and in ``shared_notes`` (keyed by the grantee:
the index a grantee's reads go through). Every write below changes both, so they agree
once committed.

MySQL has neither ``ON CONFLICT`` nor ``RETURNING``: a share is written there with ``INSERT
… ON DUPLICATE KEY UPDATE`` (which locks the row) and its creation date read back in the
same transaction; a note's shares are read ``FOR UPDATE`` before they are deleted.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import sqlalchemy as sa

from adapters.sqlalchemy.dialects import insert_on_conflict, mysql_upsert
from adapters.sqlalchemy.notes import COLUMNS, to_note
from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import note_links, note_shares, notes, shared_notes, users
from domain import Note
from domain.access import PERMISSIONS
from domain.sharing import Link, Share

__all__ = ["SqlLinkRepository", "SqlShareRepository", "share_of"]

_s, _i, _l = note_shares.c, shared_notes.c, note_links.c
_SHARES: Final = (
    sa.select(
        _s.owner_id, _s.note_id, _s.grantee_id, _s.permission, _s.created_date, users.c.username
    )
    .join(users, users.c.id == _s.grantee_id)
    .where(_s.owner_id == sa.bindparam("owner_id"), _s.note_id == sa.bindparam("note_id"))
    .order_by(_s.created_date, _s.grantee_id)
)
_UNSHARE: Final = note_shares.delete().where(
    _s.owner_id == sa.bindparam("owner_id"),
    _s.note_id == sa.bindparam("note_id"),
    _s.grantee_id == sa.bindparam("grantee_id"),
)
_UNINDEX: Final = shared_notes.delete().where(
    _i.grantee_id == sa.bindparam("grantee_id"),
    _i.note_id == sa.bindparam("note_id"),
    _i.owner_id == sa.bindparam("owner_id"),
)
_NOTE_SHARES: Final = (
    _s.owner_id == sa.bindparam("owner_id"),
    _s.note_id == sa.bindparam("note_id"),
)
_DELETE_NOTE_SHARES: Final = note_shares.delete().where(*_NOTE_SHARES)
_UNSHARE_NOTE: Final = _DELETE_NOTE_SHARES.returning(_s.grantee_id)
_GRANTEES: Final = sa.select(_s.grantee_id).where(*_NOTE_SHARES).with_for_update()
_SHARED_DATE: Final = sa.select(_s.created_date).where(
    *_NOTE_SHARES, _s.grantee_id == sa.bindparam("grantee_id")
)
_LINK_COLUMNS: Final = (
    _l.id,
    _l.owner_id,
    _l.note_id,
    _l.token_hash,
    _l.created_date,
    _l.expires_date,
)
_LINKS: Final = (
    sa.select(*_LINK_COLUMNS)
    .where(_l.owner_id == sa.bindparam("owner_id"), _l.note_id == sa.bindparam("note_id"))
    .order_by(_l.created_date, _l.id)
)
_REVOKE: Final = note_links.delete().where(
    _l.owner_id == sa.bindparam("owner_id"),
    _l.id == sa.bindparam("link_id"),
    _l.note_id == sa.bindparam("note_id"),
)
_UNLINK_NOTE: Final = note_links.delete().where(
    _l.owner_id == sa.bindparam("owner_id"), _l.note_id == sa.bindparam("note_id")
)
# The link and its note in one round trip; a trashed note is not in ``notes``.
_OPEN: Final = (
    sa.select(*COLUMNS)
    .select_from(note_links)
    .join(notes, sa.and_(notes.c.owner_id == _l.owner_id, notes.c.id == _l.note_id))
    .where(
        _l.owner_id == sa.bindparam("owner_id"),
        _l.token_hash == sa.bindparam("token_hash"),
        _l.expires_date > sa.bindparam("now", type_=_l.expires_date.type),
    )
)


def share_of(row: Mapping[Any, Any]) -> Share:
    """The share of a ``note_shares`` row joined with its grantee's ``username``."""
    return Share(
        owner_id=row["owner_id"],
        note_id=row["note_id"],
        grantee_id=row["grantee_id"],
        grantee=row["username"],
        permission=PERMISSIONS[row["permission"]],
        created_date=row["created_date"],
    )


class SqlShareRepository:
    def __init__(self, uow: Session) -> None:
        self._uow = uow

    async def put(self, share: Share) -> Share:
        row = {
            "owner_id": share.owner_id,
            "note_id": share.note_id,
            "grantee_id": share.grantee_id,
            "permission": share.permission.value,
            "created_date": share.created_date,
        }
        created = await self._record(row)
        # The note's creation date, for the grantee's index, read with the owner's key.
        columns = ["grantee_id", "note_id", "owner_id", "permission", "note_created_date"]
        source = sa.select(
            sa.literal(share.grantee_id, sa.Uuid()),
            notes.c.id,
            notes.c.owner_id,
            sa.literal(share.permission.value, sa.String(5)),
            notes.c.created_date,
        ).where(notes.c.owner_id == share.owner_id, notes.c.id == share.note_id)
        if self._uow.dialect == "mysql":
            upsert = mysql_upsert(shared_notes).from_select(columns, source)
            statement: Any = upsert.on_duplicate_key_update(permission=upsert.inserted.permission)
        else:
            index = insert_on_conflict(shared_notes, self._uow.dialect)
            statement = index.from_select(columns, source).on_conflict_do_update(
                index_elements=[_i.grantee_id, _i.note_id, _i.owner_id],
                set_={"permission": index.excluded.permission},
            )
        await self._uow.execute(statement, write=True)
        return Share(
            owner_id=share.owner_id,
            note_id=share.note_id,
            grantee_id=share.grantee_id,
            grantee=share.grantee,
            permission=share.permission,
            created_date=created,
        )

    async def _record(self, row: dict[str, Any]) -> datetime:
        """Insert the share or change its permission; its creation date as stored."""
        if self._uow.dialect == "mysql":
            upsert = mysql_upsert(note_shares)
            await self._uow.execute(
                upsert.on_duplicate_key_update(permission=upsert.inserted.permission),
                row,
                write=True,
            )
            key = {name: row[name] for name in ("owner_id", "note_id", "grantee_id")}
            stored = await self._uow.execute(_SHARED_DATE, key, write=True)
            created: datetime = stored.scalar_one()
            return created
        record = insert_on_conflict(note_shares, self._uow.dialect)
        stored = await self._uow.execute(
            record.on_conflict_do_update(
                index_elements=[_s.owner_id, _s.note_id, _s.grantee_id],
                set_={"permission": record.excluded.permission},
            ).returning(_s.created_date),
            row,
            write=True,
        )
        created = stored.scalar_one()
        return created

    async def list(self, owner_id: UUID, note_id: UUID) -> builtins.list[Share]:
        result = await self._uow.execute(
            _SHARES, {"owner_id": owner_id, "note_id": note_id}, write=False
        )
        return [share_of(row) for row in result.mappings().all()]

    async def delete(self, owner_id: UUID, note_id: UUID, grantee_id: UUID) -> bool:
        key = {"owner_id": owner_id, "note_id": note_id, "grantee_id": grantee_id}
        if (await self._uow.execute(_UNSHARE, key, write=True)).rowcount != 1:
            return False
        await self._uow.execute(_UNINDEX, key, write=True)
        return True

    async def delete_note(self, owner_id: UUID, note_id: UUID) -> None:
        key = {"owner_id": owner_id, "note_id": note_id}
        if self._uow.dialect == "mysql":
            grantees = (await self._uow.execute(_GRANTEES, key, write=True)).scalars().all()
            await self._uow.execute(_DELETE_NOTE_SHARES, key, write=True)
        else:
            grantees = (await self._uow.execute(_UNSHARE_NOTE, key, write=True)).scalars().all()
        if grantees:
            await self._uow.execute(
                _UNINDEX,
                [{"owner_id": owner_id, "note_id": note_id, "grantee_id": g} for g in grantees],
                write=True,
            )


class SqlLinkRepository:
    def __init__(self, uow: Session) -> None:
        self._uow = uow

    async def add(self, link: Link) -> None:
        row = {
            "owner_id": link.owner_id,
            "id": link.id,
            "note_id": link.note_id,
            "token_hash": link.token_hash,
            "created_date": link.created_date,
            "expires_date": link.expires_date,
        }
        await self._uow.execute(note_links.insert(), row, write=True)

    async def list(self, owner_id: UUID, note_id: UUID) -> builtins.list[Link]:
        result = await self._uow.execute(
            _LINKS, {"owner_id": owner_id, "note_id": note_id}, write=False
        )
        return [Link(**row) for row in result.mappings().all()]

    async def delete(self, owner_id: UUID, note_id: UUID, link_id: UUID) -> bool:
        key = {"owner_id": owner_id, "note_id": note_id, "link_id": link_id}
        return (await self._uow.execute(_REVOKE, key, write=True)).rowcount == 1

    async def delete_note(self, owner_id: UUID, note_id: UUID) -> None:
        await self._uow.execute(
            _UNLINK_NOTE, {"owner_id": owner_id, "note_id": note_id}, write=True
        )

    async def note(self, owner_id: UUID, token_hash: str, now: datetime) -> Note | None:
        row = await self._uow.fetch_one(
            _OPEN, {"owner_id": owner_id, "token_hash": token_hash, "now": now}
        )
        return None if row is None else to_note(row)
