"""The SQL unit of work: one connection, one transaction per unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import lru_cache
from types import TracebackType
from typing import Any, Final, Self

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy.errors import DRIVER_ERRORS, driver_error, is_dead, translated
from adapters.sqlalchemy.gate import FairGate, gate_for
from adapters.sqlalchemy.idempotency_keys import SqlIdempotencyKeys
from adapters.sqlalchemy.login_failures import SqlLoginFailures
from adapters.sqlalchemy.notes import INSERT, SqlNoteRepository, compiled_insert
from adapters.sqlalchemy.refresh_tokens import SqlRefreshTokenRepository
from adapters.sqlalchemy.retention import SqlRetention
from adapters.sqlalchemy.users import SqlUserRepository
from application import InvalidData, StorageUnavailable

__all__ = ["SqlDatabase", "SqlUnitOfWork"]

_Call = Callable[..., Awaitable[Any]]
# asyncpg's ways of running a statement, by what they return.
_FETCH_ALL: Final[_Call] = asyncpg.Connection.fetch
_FETCH_ONE: Final[_Call] = asyncpg.Connection.fetchrow
_EXECUTE: Final[_Call] = asyncpg.Connection.execute


class SqlDatabase:
    """A database reached through an engine; ``unit_of_work`` is the ports' factory.

    Units of work check their connections out through the engine's ``FairGate``, so that
    when more of them run at once than the pool holds connections, they are served in
    the order they came (see ``adapters.sqlalchemy.gate``).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._gate = gate_for(engine)

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, sqlite=self._sqlite, gate=self._gate)


class SqlUnitOfWork:
    """One pooled connection and one transaction, rolled back unless committed.

    The connection is checked out on entry (through ``gate``, when given: waiting longer
    than the pool's timeout for it is ``StorageUnavailable``) and returned on exit. The
    transaction begins with the first statement: on SQLite, a write (or a read for update)
    first takes the database's write lock, which is how SQLite keeps the row-lock promise
    of the port.

    Three things keep the database round trips of a unit of work to the statements it runs
    (a read by id is one round trip, not six; so is the creation of a note):

    * On PostgreSQL, a first statement that only reads runs before ``BEGIN``, and the
      transaction begins with the next statement, if any. Under READ COMMITTED, PostgreSQL's
      level and the port's promise, every statement takes a snapshot of its own inside a
      transaction as well, and a plain read takes no lock, so the unit of work sees and
      promises exactly what it did; a unit of work that only reads costs no ``BEGIN`` and
      no ``ROLLBACK``.
    * On PostgreSQL, a note added as the first thing a unit of work does is written later
      (``insert_note``): if nothing else comes before ``commit()``, the ``INSERT`` is sent
      alone, outside a transaction (it commits by itself, all or nothing), instead of
      ``BEGIN``, ``INSERT``, ``COMMIT``. Any other statement first sends the deferred
      ``INSERT``, in the transaction it begins, so the unit of work reads its own write.
      A unit of work left without ``commit()`` sends nothing. A broken rule is then
      reported by ``commit()`` (or by the next statement), not by ``add``.
    * No ping before each checkout: when the first statement finds its pooled connection
      dead (the server restarted, or a failover), the pool drops it, along with every
      connection as old, and the statement runs again once on a new connection. Nothing can
      be lost or done twice by that retry: before the first statement the unit of work has
      done nothing, and a write's transaction on the dead connection never committed. The
      lone deferred ``INSERT``, which commits by itself, runs again only when the connection
      was found closed before it was sent; if the connection dies while it runs, its
      outcome is unknown, as a ``COMMIT``'s is then, and it fails ``StorageUnavailable``.

    On PostgreSQL, statements the unit of work runs first go to the driver directly,
    compiled once (``fetch_one``, ``fetch_all``, the lone ``INSERT``): SQLAlchemy's
    execution machinery and result processing cost more than the rest of a request, and
    asyncpg returns what the column types would (UUIDs, UTC datetimes, lists).
    """

    notes: SqlNoteRepository
    users: SqlUserRepository
    refresh_tokens: SqlRefreshTokenRepository
    login_failures: SqlLoginFailures
    idempotency_keys: SqlIdempotencyKeys
    retention: SqlRetention

    def __init__(
        self, engine: AsyncEngine, *, sqlite: bool = False, gate: FairGate | None = None
    ) -> None:
        self._engine = engine
        self._sqlite = sqlite
        self._gate = gate
        self.dialect = engine.dialect.name
        self._postgres = self.dialect == "postgresql"
        self._connection: AsyncConnection | None = None
        self._holds_permit = False
        self._started = False
        self._deferred: dict[str, Any] | None = None

    async def __aenter__(self) -> Self:
        gate = self._gate
        if gate is not None and not gate.try_acquire():
            try:
                await gate.acquire()
            except TimeoutError as error:
                raise StorageUnavailable("the database is unavailable") from error
        self._holds_permit = gate is not None
        try:
            with translated():
                self._connection = await self._engine.connect()
        except BaseException:
            self._release()
            raise
        self.notes = SqlNoteRepository(self)
        self.users = SqlUserRepository(self)
        self.refresh_tokens = SqlRefreshTokenRepository(self)
        self.login_failures = SqlLoginFailures(self)
        self.idempotency_keys = SqlIdempotencyKeys(self)
        self.retention = SqlRetention(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._deferred = None
        connection, self._connection = self._connection, None
        try:
            if connection is None:
                return
            try:
                if connection.in_transaction():
                    await connection.rollback()
            except Exception:  # noqa: BLE001 - the connection is discarded below either way
                await connection.invalidate()
            finally:
                await connection.close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._holds_permit:
            self._holds_permit = False
            assert self._gate is not None
            self._gate.release()

    async def commit(self) -> None:
        deferred, self._deferred = self._deferred, None
        if deferred is None:
            with translated():
                await self._active().commit()
            return
        # The unit of work did nothing but this write: it commits by itself.
        sql, names = compiled_insert(self._engine.dialect)
        await self._on_driver(_EXECUTE, sql, [deferred[name] for name in names], write=True)

    async def rollback(self) -> None:
        self._deferred = None
        with translated():
            await self._active().rollback()

    def _active(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open")
        return self._connection

    async def insert_note(self, row: dict[str, Any]) -> None:
        """Insert the row of one note: as the first write of a unit of work on PostgreSQL,
        deferred until ``commit()`` or the next statement (see the class docstring)."""
        if self._postgres and not self._started and self._deferred is None:
            self._deferred = row
            return
        await self.execute(INSERT, row, write=True)

    async def execute(
        self,
        statement: sa.Executable,
        parameters: Sequence[dict[str, Any]] | dict[str, Any] | None = None,
        *,
        write: bool,
    ) -> sa.CursorResult[Any]:
        """Run one statement in this unit of work's transaction, beginning it if needed;
        with a list of ``parameters``, once for each (executemany)."""
        if not self._started:
            deferred, self._deferred = self._deferred, None
            if deferred is None:
                return await self._first(statement, parameters, write=write)
            await self._first(INSERT, deferred, write=True)
        with translated():
            return await self._run(statement, parameters, write=write)

    async def _first(
        self,
        statement: sa.Executable,
        parameters: Sequence[dict[str, Any]] | dict[str, Any] | None,
        *,
        write: bool,
    ) -> sa.CursorResult[Any]:
        with translated():
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

    def _direct(self) -> bool:
        """Whether the next statement goes to the driver directly: on PostgreSQL, as the
        first statement of the unit of work, with no deferred write to send before it."""
        return self._postgres and not self._started and self._deferred is None

    async def fetch_one(
        self, statement: sa.Select[Any], parameters: dict[str, Any]
    ) -> Mapping[Any, Any] | None:
        """The first row a read finds, or None (see ``fetch_all``)."""
        if not self._direct():
            result = await self.execute(statement, parameters, write=False)
            return result.mappings().first()
        sql, names = _compiled(statement, self._engine.dialect)
        row: Mapping[Any, Any] | None = await self._on_driver(
            _FETCH_ONE, sql, [parameters[name] for name in names], write=False
        )
        return row

    async def fetch_all(
        self, statement: sa.Select[Any], parameters: dict[str, Any]
    ) -> Sequence[Mapping[Any, Any]]:
        """Every row a read finds, as mappings from column names to values.

        On PostgreSQL, as the first statement of the unit of work, it goes to the driver
        directly, compiled once (``statement`` must be built once, with named bind
        parameters, which ``parameters`` gives by name): the same rules hold as for
        ``execute``, no ``BEGIN`` before a first read, one retry on a new connection when
        the pooled one was dead, driver errors translated for the ports. Elsewhere it is
        ``execute``.
        """
        if not self._direct():
            result = await self.execute(statement, parameters, write=False)
            return result.mappings().all()
        sql, names = _compiled(statement, self._engine.dialect)
        rows: Sequence[Mapping[Any, Any]] = await self._on_driver(
            _FETCH_ALL, sql, [parameters[name] for name in names], write=False
        )
        return rows

    async def _on_driver(self, call: _Call, sql: str, arguments: list[Any], *, write: bool) -> Any:
        """``call(driver, sql, *arguments)`` on the driver connection, as the first statement
        of the unit of work: outside a transaction, run again once on a new connection when
        the pooled one was dead (a ``write`` only when it was not sent), errors translated
        as ``translated`` does."""
        self._started = True
        for attempt in (1, 2):
            connection = self._active()
            with translated():
                fairy = connection.sync_connection.connection  # type: ignore[union-attr]
            driver = fairy.driver_connection
            assert driver is not None
            closed = driver.is_closed()
            try:
                return await call(driver, sql, *arguments)
            except DRIVER_ERRORS as error:
                dead = is_dead(error, driver)
                # The driver refuses a statement on a connection it knows closed or broken
                # before sending anything.
                unsent = closed or isinstance(error, asyncpg.InternalClientError)
                if dead:
                    # As SQLAlchemy does on a disconnect: every connection as old as this one
                    # is replaced when next checked out, since the server likely dropped them
                    # all.
                    self._engine.pool._invalidate(fairy, error, _checkin=False)
                    await connection.invalidate(error)
                    if attempt == 1 and (unsent or not write):
                        await connection.close()
                        self._connection = None
                        with translated():
                            self._connection = await self._engine.connect()
                        continue
                translated_error = driver_error(error, dead=dead)
                if translated_error is error:
                    raise
                if isinstance(translated_error, InvalidData):
                    raise translated_error from None  # the driver's message quotes the value
                raise translated_error from error
        raise AssertionError("unreachable")


@lru_cache(maxsize=256)
def _compiled(statement: sa.Select[Any], dialect: sa.Dialect) -> tuple[str, tuple[str, ...]]:
    """The SQL of ``statement`` for ``dialect``, and the names of its parameters in order."""
    compiled = statement.compile(dialect=dialect)
    return compiled.string, tuple(compiled.positiontup or ())
