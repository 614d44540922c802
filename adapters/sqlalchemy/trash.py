"""The SQL repository of the trash: deleted notes in ``trashed_notes``."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import sqlalchemy as sa

from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import (
    note_links,
    note_revisions,
    note_shares,
    shared_notes,
    trashed_notes,
)
from domain import Note
from domain.revisions import TrashedNote

__all__ = ["SqlTrashRepository"]

_t = trashed_notes.c
_COLUMNS: Final = (
    _t.id,
    _t.owner_id,
    _t.title,
    _t.description,
    _t.tags,
    _t.created_date,
    _t.updated_date,
    _t.version,
    _t.deleted_date,
)
_KEY = (_t.owner_id == sa.bindparam("owner_id"), _t.id == sa.bindparam("note_id"))
_GET = sa.select(*_COLUMNS).where(*_KEY)
_TAKE = trashed_notes.delete().where(*_KEY).returning(*_COLUMNS)
_GET_FOR_UPDATE = _GET.with_for_update()
_DELETE = trashed_notes.delete().where(*_KEY)
_FIRST_PAGE = (
    sa.select(*_COLUMNS)
    .where(_t.owner_id == sa.bindparam("owner_id"))
    .order_by(_t.deleted_date.desc(), _t.id.desc())
    .limit(sa.bindparam("limit"))
)
_NEXT_PAGE = _FIRST_PAGE.where(
    sa.or_(
        _t.deleted_date < sa.bindparam("after_date"),
        sa.and_(_t.deleted_date == sa.bindparam("after_date"), _t.id < sa.bindparam("after_id")),
    )
)
_REVISIONS_OF_ONE = note_revisions.delete().where(
    note_revisions.c.owner_id == sa.bindparam("owner_id"),
    note_revisions.c.note_id == sa.bindparam("note_id"),
)


def _to_trashed(row: Mapping[Any, Any]) -> TrashedNote:
    note = Note.restore(
        id=row["id"],
        owner_id=row["owner_id"],
        title=row["title"],
        description=row["description"],
        tags=row["tags"],
        created_date=row["created_date"],
        updated_date=row["updated_date"],
        version=row["version"],
    )
    return TrashedNote(note=note, deleted_date=row["deleted_date"])


class SqlTrashRepository:
    """Trashed notes, and the revisions they keep until deleted for good."""

    def __init__(self, uow: Session) -> None:
        self._uow = uow

    async def list(
        self, owner_id: UUID, *, limit: int, after: tuple[datetime, UUID] | None = None
    ) -> builtins.list[TrashedNote]:
        parameters: dict[str, Any] = {"owner_id": owner_id, "limit": limit}
        statement = _FIRST_PAGE
        if after is not None:
            statement = _NEXT_PAGE
            parameters["after_date"], parameters["after_id"] = after
        rows = (await self._uow.execute(statement, parameters, write=False)).mappings().all()
        return [_to_trashed(row) for row in rows]

    async def get(self, owner_id: UUID, note_id: UUID) -> TrashedNote | None:
        result = await self._uow.execute(
            _GET, {"owner_id": owner_id, "note_id": note_id}, write=False
        )
        row = result.mappings().first()
        return None if row is None else _to_trashed(row)

    async def take(self, owner_id: UUID, note_id: UUID) -> TrashedNote | None:
        key = {"owner_id": owner_id, "note_id": note_id}
        if self._uow.dialect == "mysql":
            # No DELETE … RETURNING: the row is read, locked, then deleted.
            found = await self._uow.execute(_GET_FOR_UPDATE, key, write=True)
            row = found.mappings().first()
            if row is not None:
                await self._uow.execute(_DELETE, key, write=True)
            return None if row is None else _to_trashed(row)
        result = await self._uow.execute(_TAKE, key, write=True)
        row = result.mappings().first()
        return None if row is None else _to_trashed(row)

    async def delete(self, owner_id: UUID, note_id: UUID) -> TrashedNote | None:
        taken = await self.take(owner_id, note_id)
        if taken is not None:
            await self._uow.execute(
                _REVISIONS_OF_ONE, {"owner_id": owner_id, "note_id": note_id}, write=True
            )
        return taken

    async def purge(self, deleted_before: datetime) -> builtins.list[TrashedNote]:
        expired = _t.deleted_date < deleted_before
        # Across owners: a maintenance sweep, each row's revisions matched by its own owner.
        await self._uow.execute(
            note_revisions.delete().where(
                sa.exists().where(
                    expired,
                    _t.owner_id == note_revisions.c.owner_id,
                    _t.id == note_revisions.c.note_id,
                )
            ),
            write=True,
        )
        # Their shares (both copies) and links go with them.
        for table, owner in (
            (note_shares, note_shares.c.owner_id),
            (shared_notes, shared_notes.c.owner_id),
            (note_links, note_links.c.owner_id),
        ):
            await self._uow.execute(
                table.delete().where(
                    sa.exists().where(expired, _t.owner_id == owner, _t.id == table.c.note_id)
                ),
                write=True,
            )
        result = await self._uow.execute(
            trashed_notes.delete().where(expired).returning(*_COLUMNS), write=True
        )
        return [_to_trashed(row) for row in result.mappings().all()]
