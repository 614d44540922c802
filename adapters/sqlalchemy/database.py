"""The SQL unit of work and note repository: one connection, one transaction per unit of work."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy import finding
from adapters.sqlalchemy.accounts import (
    SqlIdempotencyKeys,
    SqlLoginFailures,
    SqlRefreshTokenRepository,
    SqlUserRepository,
)
from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.tables import notes
from application import NoteFilter, Order, Position, Ranked
from domain import Description, Note, Tags, Title
from domain.search import encode, tokens

__all__ = ["SqlDatabase", "SqlNoteRepository", "SqlUnitOfWork"]


class SqlDatabase:
    """A database reached through an engine; ``unit_of_work`` is the ports' factory."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, sqlite=self._sqlite)


class SqlUnitOfWork:
    """One pooled connection and one transaction, rolled back unless committed.

    The connection is checked out on entry and returned on exit. The transaction begins with
    the first statement: on SQLite, a write (or a read for update) first takes the database's
    write lock, which is how SQLite keeps the row-lock promise of the port.
    """

    notes: SqlNoteRepository
    users: SqlUserRepository
    refresh_tokens: SqlRefreshTokenRepository
    login_failures: SqlLoginFailures
    idempotency_keys: SqlIdempotencyKeys

    def __init__(self, engine: AsyncEngine, *, sqlite: bool = False) -> None:
        self._engine = engine
        self._sqlite = sqlite
        self.dialect = engine.dialect.name
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        with translated():
            self._connection = await self._engine.connect()
        self.notes = SqlNoteRepository(self)
        self.users = SqlUserRepository(self)
        self.refresh_tokens = SqlRefreshTokenRepository(self)
        self.login_failures = SqlLoginFailures(self)
        self.idempotency_keys = SqlIdempotencyKeys(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if connection.in_transaction():
                await connection.rollback()
        except Exception:  # noqa: BLE001 - the connection is discarded below either way
            await connection.invalidate()
        finally:
            await connection.close()

    async def commit(self) -> None:
        with translated():
            await self._active().commit()

    async def rollback(self) -> None:
        with translated():
            await self._active().rollback()

    def _active(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open")
        return self._connection

    async def execute(
        self,
        statement: sa.Executable,
        parameters: Sequence[dict[str, Any]] | None = None,
        *,
        write: bool,
    ) -> sa.CursorResult[Any]:
        """Run one statement in this unit of work's transaction, beginning it if needed;
        with a list of ``parameters``, once for each (executemany)."""
        connection = self._active()
        with translated():
            if not connection.in_transaction():
                if self._sqlite and write:
                    connection.sync_connection.info["sqlite_begin"] = "BEGIN IMMEDIATE"  # type: ignore[union-attr]
                await connection.begin()
            return await connection.execute(statement, parameters)


notes_table = notes

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
_NEWEST_FIRST = (notes.c.created_date.desc(), notes.c.id.desc())


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


def _to_note(row: RowMapping) -> Note:
    return Note(
        id=row["id"],
        owner_id=row["owner_id"],
        title=Title(row["title"]),
        description=Description(row["description"]),
        tags=Tags(tuple(row["tags"])),
        created_date=row["created_date"],
        updated_date=row["updated_date"],
        version=row["version"],
    )


class SqlNoteRepository:
    """Notes in the ``notes`` table, through SQLAlchemy Core statements."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add(self, note: Note) -> None:
        await self._uow.execute(notes.insert().values(note_row(note)), write=True)

    async def add_many(self, notes: Sequence[Note]) -> None:
        """All the rows through one cached INSERT statement: SQLAlchemy sends them as
        multi-row VALUES batches ("insertmanyvalues"), not a round trip per note, and reuses
        the compiled statement, where building a statement with every row's values in it
        costs five times as long."""
        await self._uow.execute(
            notes_table.insert(), [note_row(note) for note in notes], write=True
        )

    async def get(self, owner_id: UUID, note_id: UUID, *, for_update: bool = False) -> Note | None:
        statement = sa.select(*COLUMNS).where(notes.c.id == note_id, notes.c.owner_id == owner_id)
        if for_update:
            statement = statement.with_for_update()
        row = (await self._uow.execute(statement, write=for_update)).mappings().first()
        return None if row is None else _to_note(row)

    async def list(self, owner_id: UUID, *, limit: int, skip: int = 0) -> list[Note]:
        statement = (
            sa.select(*COLUMNS)
            .where(notes.c.owner_id == owner_id)
            .order_by(*_NEWEST_FIRST)
            .limit(limit)
            .offset(skip)
        )
        result = await self._uow.execute(statement, write=False)
        return [_to_note(row) for row in result.mappings()]

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
        result = await self._uow.execute(statement, write=False)
        return [Ranked(_to_note(row), float(row["score"])) for row in result.mappings()]

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
