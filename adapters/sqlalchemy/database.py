"""The SQL unit of work and note repository: one connection, one transaction per unit of work."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from functools import lru_cache
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy import finding
from adapters.sqlalchemy.accounts import (
    SqlIdempotencyKeys,
    SqlLoginFailures,
    SqlRefreshTokenRepository,
    SqlUserRepository,
)
from adapters.sqlalchemy.errors import UNAVAILABLE_CLASSES, translated
from adapters.sqlalchemy.tables import notes
from application import NoteFilter, Order, Position, Ranked, StorageUnavailable
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

    Two things keep the database round trips of a unit of work to the statements it runs
    (a read by id is one round trip, not six):

    * On PostgreSQL, a first statement that only reads runs before ``BEGIN``, and the
      transaction begins with the next statement, if any. Under READ COMMITTED, PostgreSQL's
      level and the port's promise, every statement takes a snapshot of its own inside a
      transaction as well, and a plain read takes no lock, so the unit of work sees and
      promises exactly what it did; a unit of work that only reads costs no ``BEGIN`` and
      no ``ROLLBACK``.
    * No ping before each checkout: when the first statement finds its pooled connection
      dead (the server restarted, or a failover), the pool drops it, along with every
      connection as old, and the statement runs again once on a new connection. Nothing can
      be lost or done twice by that retry: before the first statement the unit of work has
      done nothing, and a write's transaction on the dead connection never committed.
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
        self._postgres = self.dialect == "postgresql"
        self._connection: AsyncConnection | None = None
        self._started = False

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
        parameters: Sequence[dict[str, Any]] | dict[str, Any] | None = None,
        *,
        write: bool,
    ) -> sa.CursorResult[Any]:
        """Run one statement in this unit of work's transaction, beginning it if needed;
        with a list of ``parameters``, once for each (executemany)."""
        with translated():
            if self._started:
                return await self._run(statement, parameters, write=write)
            self._started = True
            try:
                return await self._run(statement, parameters, write=write, first=True)
            except sa_exc.DBAPIError as error:
                if not error.connection_invalidated:
                    raise
            # The pooled connection was dead: the pool has dropped it; start on a new one.
            stale, self._connection = self._connection, None
            if stale is not None:
                await stale.close()
            self._connection = await self._engine.connect()
            return await self._run(statement, parameters, write=write, first=True)

    async def _run(
        self,
        statement: sa.Executable,
        parameters: Sequence[dict[str, Any]] | dict[str, Any] | None,
        *,
        write: bool,
        first: bool = False,
    ) -> sa.CursorResult[Any]:
        connection = self._active()
        if not connection.in_transaction():
            if self._sqlite and write:
                connection.sync_connection.info["sqlite_begin"] = "BEGIN IMMEDIATE"  # type: ignore[union-attr]
            await connection.begin()
        if first and not write and self._postgres:
            # See the class docstring: the driver sends no BEGIN for this one statement.
            driver = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
            driver.autocommit = True  # type: ignore[union-attr]
            try:
                return await connection.execute(statement, parameters)
            finally:
                driver.autocommit = False  # type: ignore[union-attr]
        return await connection.execute(statement, parameters)

    async def fetch_one(
        self, statement: sa.Select[Any], parameters: dict[str, Any]
    ) -> Mapping[Any, Any] | None:
        """The first row a read finds, or None.

        On PostgreSQL, as the first statement of the unit of work, it goes to the driver
        directly, compiled once (``statement`` must be built once, with named bind
        parameters): SQLAlchemy's execution machinery costs a quarter of a read by id, and
        asyncpg returns what the column types would (UUIDs, UTC datetimes, lists). The same
        rules hold as for ``execute``: no ``BEGIN`` before a first read, one retry on a new
        connection when the pooled one was dead, driver errors translated for the ports.
        """
        if self._started or not self._postgres:
            result = await self.execute(statement, parameters, write=False)
            return result.mappings().first()
        self._started = True
        sql, names = _compiled(statement, self._engine.dialect)
        arguments = [parameters[name] for name in names]
        for attempt in (1, 2):
            connection = self._active()
            with translated():
                driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            try:
                row: Mapping[Any, Any] | None = await driver.fetchrow(sql, *arguments)
                return row
            except (OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresError) as error:
                sqlstate = str(getattr(error, "sqlstate", "") or "")
                dead = (
                    driver.is_closed()
                    or isinstance(error, (OSError, asyncpg.ConnectionDoesNotExistError))
                    or sqlstate[:2] == "08"
                    or sqlstate == "57P01"
                )
                if dead:
                    await connection.invalidate()
                    if attempt == 1:
                        await connection.close()
                        with translated():
                            self._connection = await self._engine.connect()
                        continue
                if (
                    dead
                    or isinstance(error, (TimeoutError, asyncpg.InterfaceError))
                    or sqlstate[:2] in UNAVAILABLE_CLASSES
                ):
                    raise StorageUnavailable("the database is unavailable") from error
                raise
        raise AssertionError("unreachable")


@lru_cache(maxsize=64)
def _compiled(statement: sa.Select[Any], dialect: sa.Dialect) -> tuple[str, tuple[str, ...]]:
    """The SQL of ``statement`` for ``dialect``, and the names of its parameters in order."""
    compiled = statement.compile(dialect=dialect)
    return compiled.string, tuple(compiled.positiontup or ())


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
# Built once: SQLAlchemy then finds the compiled form by a cache key it computes only once.
_GET = sa.select(*COLUMNS).where(
    notes.c.id == sa.bindparam("note_id"), notes.c.owner_id == sa.bindparam("owner_id")
)
_GET_FOR_UPDATE = _GET.with_for_update()


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
        parameters = {"note_id": note_id, "owner_id": owner_id}
        row: Mapping[Any, Any] | None
        if for_update:
            result = await self._uow.execute(_GET_FOR_UPDATE, parameters, write=True)
            row = result.mappings().first()
        else:
            row = await self._uow.fetch_one(_GET, parameters)
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
