"""The SQL repository of notes, and the row that stores a note."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from adapters.sqlalchemy import finding
from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import notes
from application import NoteFilter, Order, Position, Ranked
from domain import Note
from domain.search import encode, tokens

__all__ = ["COLUMNS", "INSERT", "SqlNoteRepository", "compiled_insert", "note_row"]


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
# SQLAlchemy compiles it for the keys of the parameters it is given, and caches that.
INSERT = notes.insert()
_ROW_KEYS = (
    "search_title",
    "search_body",
    "id",
    "owner_id",
    "title",
    "description",
    "tags",
    "created_date",
    "updated_date",
    "version",
)


@lru_cache(maxsize=4)
def compiled_insert(dialect: sa.Dialect) -> tuple[str, tuple[str, ...]]:
    """The SQL of the ``INSERT`` of one ``note_row`` for ``dialect``, and its parameters."""
    compiled = INSERT.compile(dialect=dialect, column_keys=list(_ROW_KEYS))
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


def _to_note(row: Mapping[Any, Any]) -> Note:
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

    async def add(self, note: Note) -> None:
        await self._uow.insert_note(note_row(note))

    async def add_many(self, notes: Sequence[Note]) -> None:
        """All the rows through one cached INSERT statement: SQLAlchemy sends them as
        multi-row VALUES batches ("insertmanyvalues"), not a round trip per note, and reuses
        the compiled statement, where building a statement with every row's values in it
        costs five times as long."""
        await self._uow.execute(INSERT, [note_row(note) for note in notes], write=True)

    async def get(self, owner_id: UUID, note_id: UUID, *, for_update: bool = False) -> Note | None:
        parameters = {"note_id": note_id, "owner_id": owner_id}
        row: Mapping[Any, Any] | None
        if for_update:
            result = await self._uow.execute(_GET_FOR_UPDATE, parameters, write=True)
            row = result.mappings().first()
        else:
            row = await self._uow.fetch_one(_GET, parameters)
        return None if row is None else _to_note(row)

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
        rows: Sequence[Mapping[Any, Any]]
        if self._uow.dialect == "postgresql":
            # One statement per shape of request, built and compiled once; the values are
            # its parameters.
            statement = finding.shaped_statement(
                COLUMNS, finding.shape_of(where, order, after, skip)
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
            )
            rows = (await self._uow.execute(statement, write=False)).mappings().all()
        return [Ranked(_to_note(row), float(row["score"])) for row in rows]

    async def update(self, note: Note, *, expected_version: int) -> bool:
        values = note_row(note)
        del values["id"], values["owner_id"], values["created_date"]
        statement = (
            notes.update()
            .where(
                notes.c.id == note.id,
                notes.c.owner_id == note.owner_id,
                notes.c.version == expected_version,
            )
            .values(values)
        )
        return (await self._uow.execute(statement, write=True)).rowcount == 1

    async def delete(
        self, owner_id: UUID, note_id: UUID, *, expected_version: int | None = None
    ) -> bool:
        statement = notes.delete().where(notes.c.id == note_id, notes.c.owner_id == owner_id)
        if expected_version is not None:
            statement = statement.where(notes.c.version == expected_version)
        return (await self._uow.execute(statement, write=True)).rowcount == 1
