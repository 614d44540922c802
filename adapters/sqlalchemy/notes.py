"""The SQL repository of notes, and the row that stores a note."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from adapters.sqlalchemy import finding
from adapters.sqlalchemy.events import with_event
from adapters.sqlalchemy.revisions import (
    CREATE_WITH_REVISION,
    CREATE_WITH_REVISION_AND_EVENT,
    prune_statement,
    revision_insert,
    revision_row,
    update_with_revision,
)
from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import note_revisions, notes, shared_notes, trashed_notes
from application import NoteFilter, Order, Position, Ranked
from domain import Note
from domain.access import Relation, SeenNote
from domain.search import encode, tokens

__all__ = [
    "COLUMNS",
    "INSERT",
    "SqlNoteRepository",
    "compiled_insert",
    "create_statement",
    "note_row",
    "to_note",
]


COLUMNS = (
    notes.c.id,
    notes.c.owner_id,
    notes.c.title,
    notes.c.description,
    notes.c.tags,
    notes.c.created_date,
    notes.c.updated_date,
    notes.c.version,
)
_EVERY_NOTE = NoteFilter()
# Built once: SQLAlchemy then finds the compiled form by a cache key it computes only once.
_GET = sa.select(*COLUMNS).where(
    notes.c.id == sa.bindparam("note_id"), notes.c.owner_id == sa.bindparam("owner_id")
)
_GET_FOR_UPDATE = _GET.with_for_update()
# PostgreSQL: several by id in one statement, compiled once. The ids are bound as one text
# the server splits, so that the driver need not look up an array type first.
_GET_MANY = sa.select(*COLUMNS).where(
    notes.c.owner_id == sa.bindparam("owner_id"),
    notes.c.id
    == sa.any_(
        sa.cast(
            sa.func.string_to_array(
                sa.bindparam("note_ids", type_=sa.Text()), sa.literal_column("','")
            ),
            postgresql.ARRAY(sa.Uuid()),
        )
    ),
)


# Whose note the caller may see under this id, and how: the caller's own, or the owner the
# grantee's index names. Both lookups go by a primary key; the note is then read by its own.
def _visible(caller: sa.ColumnElement[Any]) -> sa.Select[Any]:
    target = sa.union_all(
        sa.select(caller.label("owner_id"), sa.literal_column("'owner'").label("relation")),
        sa.select(shared_notes.c.owner_id, shared_notes.c.permission.label("relation")).where(
            shared_notes.c.grantee_id == caller, shared_notes.c.note_id == sa.bindparam("note_id")
        ),
    ).cte("target")
    return (
        sa.select(*COLUMNS, target.c.relation)
        .select_from(target)
        .join(
            notes,
            sa.and_(notes.c.owner_id == target.c.owner_id, notes.c.id == sa.bindparam("note_id")),
        )
    )


_CALLER = sa.bindparam("caller_id", type_=sa.Uuid())
# PostgreSQL types the caller's id by its cast; MySQL has no CAST to a UUID (nor needs one).
_VISIBLE = _visible(sa.cast(_CALLER, sa.Uuid()))
_VISIBLE_FOR_UPDATE = _VISIBLE.with_for_update(of=notes)
_VISIBLE_MYSQL = _visible(_CALLER)
_VISIBLE_MYSQL_FOR_UPDATE = _VISIBLE_MYSQL.with_for_update(of=notes)
_RELATIONS = {"owner": Relation.OWNER, "read": Relation.READ, "write": Relation.WRITE}
# SQLAlchemy compiles it for the keys of the parameters it is given, and caches that.
INSERT = notes.insert()
_TRASHED_COLUMNS = tuple(c.name for c in COLUMNS)
# One round trip: the note leaves ``notes`` and lands in the trash.
_TRASHED = (
    notes.delete()
    .where(
        notes.c.owner_id == sa.bindparam("owner_id"),
        notes.c.id == sa.bindparam("note_id"),
        notes.c.version == sa.bindparam("expected_version"),
    )
    .returning(*COLUMNS)
    .cte("trashed")
)
_TRASH = trashed_notes.insert().from_select(
    [*_TRASHED_COLUMNS, "deleted_date"],
    sa.select(
        *(sa.column(name) for name in _TRASHED_COLUMNS),
        sa.bindparam("deleted_date", type_=trashed_notes.c.deleted_date.type),
    ).select_from(_TRASHED),
)
# The same, recording its event when a note was moved.
_TRASH_WITH_EVENT = with_event(_TRASH, _TRASHED)


def create_statement(*, with_event: bool = False) -> sa.Insert:
    """PostgreSQL: the statement that inserts one ``note_row`` and its revision (and, with
    ``with_event``, records an event bound as ``events.event_row`` binds it)."""
    return CREATE_WITH_REVISION_AND_EVENT if with_event else CREATE_WITH_REVISION


@lru_cache(maxsize=8)
def compiled_insert(
    dialect: sa.Dialect, *, with_event: bool = False
) -> tuple[str, tuple[str, ...]]:
    """The SQL of ``create_statement`` on PostgreSQL, and its parameters in order."""
    compiled = create_statement(with_event=with_event).compile(dialect=dialect)
    return compiled.string, tuple(compiled.positiontup or ())


def _searchable(text: str) -> str:
    return " ".join(encode(token) for token in tokens(text))


def note_row(note: Note) -> dict[str, Any]:
    """The row that stores ``note``."""
    return {
        "search_title": _searchable(note.title.value),
        "search_body": _searchable(note.description.value),
        "id": note.id,
        "owner_id": note.owner_id,
        "title": note.title.value,
        "description": note.description.value,
        "tags": list(note.tags.values),
        "created_date": note.created_date,
        "updated_date": note.updated_date,
        "version": note.version,
    }


def to_note(row: Mapping[Any, Any]) -> Note:
    # Stored values were checked when they were written: no need to check them again.
    return Note.restore(
        id=row["id"],
        owner_id=row["owner_id"],
        title=row["title"],
        description=row["description"],
        tags=row["tags"],
        created_date=row["created_date"],
        updated_date=row["updated_date"],
        version=row["version"],
    )


class SqlNoteRepository:
    """Notes in the ``notes`` table, through SQLAlchemy Core statements."""

    def __init__(self, uow: Session) -> None:
        self._uow = uow
        # Whether this unit of work changed notes: MySQL's FULLTEXT index does not show
        # them before the commit, so its searches then go without it.
        self._changed = False

    async def add(self, note: Note) -> None:
        self._changed = True
        if self._uow.dialect == "postgresql":
            await self._uow.insert_note(note_row(note))
            return
        await self._uow.execute(INSERT, note_row(note), write=True)
        await self._uow.execute(revision_insert(), revision_row(note), write=True)

    async def add_many(self, notes: Sequence[Note]) -> None:
        """All the rows through one cached INSERT statement: SQLAlchemy sends them as
        multi-row VALUES batches ("insertmanyvalues"), not a round trip per note, and reuses
        the compiled statement, where building a statement with every row's values in it
        costs five times as long. The revisions follow the same way."""
        self._changed = True
        await self._uow.execute(INSERT, [note_row(note) for note in notes], write=True)
        await self._uow.execute(
            revision_insert(), [revision_row(note) for note in notes], write=True
        )

    async def get(self, owner_id: UUID, note_id: UUID, *, for_update: bool = False) -> Note | None:
        parameters = {"note_id": note_id, "owner_id": owner_id}
        row: Mapping[Any, Any] | None
        if for_update:
            result = await self._uow.execute(_GET_FOR_UPDATE, parameters, write=True)
            row = result.mappings().first()
        else:
            row = await self._uow.fetch_one(_GET, parameters)
        return None if row is None else to_note(row)

    async def visible(
        self, caller_id: UUID, note_id: UUID, *, for_update: bool = False
    ) -> SeenNote | None:
        parameters = {"caller_id": caller_id, "note_id": note_id}
        row: Mapping[Any, Any] | None
        mysql = self._uow.dialect == "mysql"
        if for_update:
            locking = _VISIBLE_MYSQL_FOR_UPDATE if mysql else _VISIBLE_FOR_UPDATE
            result = await self._uow.execute(locking, parameters, write=True)
            row = result.mappings().first()
        else:
            row = await self._uow.fetch_one(_VISIBLE_MYSQL if mysql else _VISIBLE, parameters)
        return None if row is None else SeenNote(to_note(row), _RELATIONS[row["relation"]])

    async def find_shared(
        self,
        grantee_id: UUID,
        where: NoteFilter,
        order: Order,
        *,
        limit: int,
        after: Position | None = None,
    ) -> builtins.list[Ranked]:
        return await self._find(grantee_id, where, order, limit, after, 0, shared=True)

    async def get_many(self, owner_id: UUID, note_ids: Sequence[UUID]) -> builtins.list[Note]:
        if not note_ids:
            return []
        rows: Sequence[Mapping[Any, Any]]
        if self._uow.dialect == "postgresql":
            parameters = {"owner_id": owner_id, "note_ids": ",".join(map(str, note_ids))}
            rows = await self._uow.fetch_all(_GET_MANY, parameters)
        else:
            statement = sa.select(*COLUMNS).where(
                notes.c.owner_id == owner_id, notes.c.id.in_(list(note_ids))
            )
            rows = (await self._uow.execute(statement, write=False)).mappings().all()
        return [to_note(row) for row in rows]

    async def list(self, owner_id: UUID, *, limit: int, skip: int = 0) -> list[Note]:
        found = await self.find(owner_id, _EVERY_NOTE, "created_desc", limit=limit, skip=skip)
        return [ranked.note for ranked in found]

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
        return await self._find(owner_id, where, order, limit, after, skip, shared=False)

    async def _find(
        self,
        owner_id: UUID,
        where: NoteFilter,
        order: Order,
        limit: int,
        after: Position | None,
        skip: int,
        *,
        shared: bool,
    ) -> builtins.list[Ranked]:
        rows: Sequence[Mapping[Any, Any]]
        if self._uow.dialect == "postgresql":
            # One statement per shape of request, built and compiled once; the values are
            # its parameters.
            statement = finding.shaped_statement(
                COLUMNS, finding.shape_of(where, order, after, skip, shared=shared)
            )
            parameters = finding.shaped_parameters(
                owner_id, where, limit=limit, after=after, skip=skip
            )
            rows = await self._uow.fetch_all(statement, parameters)
        else:
            statement = finding.find_statement(
                COLUMNS,
                owner_id,
                where,
                order,
                limit=limit,
                after=after,
                skip=skip,
                dialect=self._uow.dialect,
                indexed=not self._changed,
                shared=shared,
            )
            rows = (await self._uow.execute(statement, write=False)).mappings().all()
        return [Ranked(to_note(row), float(row["score"])) for row in rows]

    async def update(self, note: Note, *, expected_version: int, oldest_kept: int = 1) -> bool:
        self._changed = True
        if self._uow.dialect == "postgresql":
            combined, parameters = self._combined_update(note, expected_version, oldest_kept)
            result = await self._uow.execute(combined, parameters, write=True)
            return bool(result.scalar_one() == 1)
        values = note_row(note)
        del values["id"], values["owner_id"], values["created_date"]
        key = {"owner_id": note.owner_id, "note_id": note.id}
        statement = (
            notes.update()
            .where(
                notes.c.id == note.id,
                notes.c.owner_id == note.owner_id,
                notes.c.version == expected_version,
            )
            .values(values)
        )
        if (await self._uow.execute(statement, write=True)).rowcount != 1:
            return False
        await self._uow.execute(revision_insert(), revision_row(note), write=True)
        await self._uow.execute(prune_statement(), {**key, "oldest_kept": oldest_kept}, write=True)
        return True

    async def update_and_commit(
        self, note: Note, *, expected_version: int, oldest_kept: int = 1
    ) -> bool:
        if self._uow.can_write_alone(note.owner_id, note.id):
            # One autocommitted statement: the row is locked only while it runs.
            combined, parameters = self._combined_update(note, expected_version, oldest_kept)
            row = await self._uow.write_alone(combined, parameters)
            return row is not None and row["updated"] == 1
        # Otherwise in a transaction of its own, the note's row locked first: every writer
        # of a note takes its row before the owner's event head, so none waits in a cycle.
        await self._uow.end_reads()
        event = self._uow.take_event(note.owner_id, note.id)
        current = await self.get(note.owner_id, note.id, for_update=True)
        if current is None or current.version != expected_version:
            return False
        if event is not None:
            self._uow.append_event(event)
        if not await self.update(note, expected_version=expected_version, oldest_kept=oldest_kept):
            return False
        await self._uow.commit()
        return True

    def _combined_update(
        self, note: Note, expected_version: int, oldest_kept: int
    ) -> tuple[sa.Select[Any], dict[str, Any]]:
        """PostgreSQL: the one statement of an update (``update_with_revision``), taking
        the note's held-back event along, and its parameters."""
        values = note_row(note)
        del values["id"], values["owner_id"], values["created_date"]
        parameters = {
            "key_owner_id": note.owner_id,
            "key_note_id": note.id,
            **{f"new_{name}": value for name, value in values.items()},
            "expected_version": expected_version,
            "oldest_kept": oldest_kept,
        }
        event = self._uow.take_event(note.owner_id, note.id)
        if event is not None:
            parameters.update(event)
        return update_with_revision(event=event is not None), parameters

    async def trash(
        self, owner_id: UUID, note_id: UUID, *, expected_version: int, at: datetime
    ) -> bool:
        self._changed = True
        key = {"owner_id": owner_id, "note_id": note_id}
        if self._uow.dialect == "postgresql":
            parameters = {**key, "expected_version": expected_version, "deleted_date": at}
            event = self._uow.take_event(owner_id, note_id)
            if event is not None:
                parameters.update(event)
            statement = _TRASH if event is None else _TRASH_WITH_EVENT
            return (await self._uow.execute(statement, parameters, write=True)).rowcount == 1
        got = (
            (
                await self._uow.execute(
                    sa.select(*COLUMNS).where(
                        notes.c.owner_id == owner_id,
                        notes.c.id == note_id,
                        notes.c.version == expected_version,
                    ),
                    write=True,
                )
            )
            .mappings()
            .first()
        )
        if got is None:
            return False
        await self._uow.execute(
            notes.delete().where(notes.c.owner_id == owner_id, notes.c.id == note_id), write=True
        )
        await self._uow.execute(
            trashed_notes.insert(), {**dict(got), "deleted_date": at}, write=True
        )
        return True

    async def delete(
        self, owner_id: UUID, note_id: UUID, *, expected_version: int | None = None
    ) -> bool:
        statement = notes.delete().where(notes.c.id == note_id, notes.c.owner_id == owner_id)
        if expected_version is not None:
            statement = statement.where(notes.c.version == expected_version)
        if (await self._uow.execute(statement, write=True)).rowcount != 1:
            return False
        await self._uow.execute(
            note_revisions.delete().where(
                note_revisions.c.owner_id == owner_id, note_revisions.c.note_id == note_id
            ),
            write=True,
        )
        return True
