"""The SQL unit of work: one connection, one transaction per unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import cached_property, lru_cache
from types import TracebackType
from typing import Any, Final, Self, TypeVar

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy.dialects import begin_for_write
from adapters.sqlalchemy.errors import DRIVER_ERRORS, cause, failure_of, port_error, translated
from adapters.sqlalchemy.events import SqlEventLog, flush_events
from adapters.sqlalchemy.freshness import retire_older
from adapters.sqlalchemy.gate import FairGate, gate_for
from adapters.sqlalchemy.idempotency_keys import SqlIdempotencyKeys
from adapters.sqlalchemy.login_failures import SqlLoginFailures
from adapters.sqlalchemy.notes import SqlNoteRepository, compiled_insert, create_statement
from adapters.sqlalchemy.personal_tokens import SqlPersonalTokens
from adapters.sqlalchemy.refresh_tokens import SqlRefreshTokenRepository
from adapters.sqlalchemy.retention import SqlRetention
from adapters.sqlalchemy.revisions import SqlRevisionRepository
from adapters.sqlalchemy.sharing import SqlLinkRepository, SqlShareRepository
from adapters.sqlalchemy.transfer import SqlTransfer
from adapters.sqlalchemy.trash import SqlTrashRepository
from adapters.sqlalchemy.users import SqlUserRepository
from adapters.sqlalchemy.webhooks import SqlWebhookRepository
from application import StorageUnavailable

__all__ = ["SqlDatabase", "SqlUnitOfWork"]

T = TypeVar("T")
_Call = Callable[..., Awaitable[Any]]
# asyncpg's ways of running a statement, by what they return.
_FETCH_ALL: Final[_Call] = asyncpg.Connection.fetch
_FETCH_ONE: Final[_Call] = asyncpg.Connection.fetchrow
_EXECUTE: Final[_Call] = asyncpg.Connection.execute
_DRIVER: Final = "notes_driver_connection"
_Parameters = Sequence[dict[str, Any]] | dict[str, Any] | None


class SqlDatabase:
    """A database reached through an engine; ``unit_of_work`` is the ports' factory.

    Units of work check their connections out through the engine's ``FairGate``, so that
    when more of them run at once than the pool holds connections, they are served in
    the order they came (see ``adapters.sqlalchemy.gate``).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._gate = gate_for(engine)

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, gate=self._gate)


class SqlUnitOfWork:
    """One pooled connection and one transaction, rolled back unless committed.

    The connection is checked out on entry (through ``gate``, when given: waiting longer
    than the pool's timeout for it is ``StorageUnavailable``) and returned on exit. The
    transaction begins with the first statement that SQLAlchemy runs: on SQLite, a write
    (or a read for update) first takes the database's write lock, which is how SQLite keeps
    the row-lock promise of the port.

    On PostgreSQL, three things keep the round trips of the hot paths to the statements
    they need (a read by id is one round trip; so is the creation of a note):

    * A first read through ``fetch_one`` or ``fetch_all`` goes to the driver directly,
      compiled once, before any ``BEGIN``; a later statement begins the transaction. Under
      READ COMMITTED every statement takes a snapshot of its own and a plain read takes no
      lock, so the unit of work sees and promises exactly what it would inside the
      transaction.
    * A note added as the first thing a unit of work does is held back (``insert_note``):
      if nothing else comes before ``commit()``, the ``INSERT`` is sent alone and commits
      by itself. Any other statement first sends it, in the transaction it begins. A unit of
      work left without ``commit()`` sends nothing; a broken rule is then reported by
      ``commit()`` or by the next statement, not by ``add``.
    * No ping before each checkout. The retry policy (``_attempt``, the only one): when a
      statement finds its connection dead or the server read-only, that connection is
      dropped and every connection made as long ago is replaced at its next checkout. The
      first statement then runs once more on a new connection if that cannot do anything
      twice: a read, a statement whose transaction died with the connection, or a write
      that commits by itself but was never sent. A ``COMMIT``, or such a write, sent on a
      connection that then dies has an unknown outcome: ``OutcomeUnknown``. A connection
      error the server reports on a connection that stays open is ``StorageUnavailable``
      for this unit of work and leaves the pool alone.
    """

    def __init__(self, engine: AsyncEngine, *, gate: FairGate | None = None) -> None:
        self._engine = engine
        self._gate = gate
        self.dialect = engine.dialect.name
        self._postgres = self.dialect == "postgresql"
        self._connection: AsyncConnection | None = None
        self._holds_permit = False
        self._started = False
        self._wrote = False
        self._deferred: dict[str, Any] | None = None
        self._events: list[dict[str, Any]] = []

    async def __aenter__(self) -> Self:
        gate = self._gate
        if gate is not None and not gate.try_acquire():
            try:
                await gate.acquire()
            except TimeoutError as error:
                raise StorageUnavailable("no database connection was free in time") from error
        self._holds_permit = gate is not None
        try:
            with translated():
                self._connection = await self._engine.connect()
        except BaseException:
            self._release()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._deferred = None
        self._events = []
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

    # The repositories, each made when first used.

    @cached_property
    def notes(self) -> SqlNoteRepository:
        return SqlNoteRepository(self)

    @cached_property
    def revisions(self) -> SqlRevisionRepository:
        return SqlRevisionRepository(self)

    @cached_property
    def trashed(self) -> SqlTrashRepository:
        return SqlTrashRepository(self)

    @cached_property
    def shares(self) -> SqlShareRepository:
        return SqlShareRepository(self)

    @cached_property
    def links(self) -> SqlLinkRepository:
        return SqlLinkRepository(self)

    @cached_property
    def users(self) -> SqlUserRepository:
        return SqlUserRepository(self)

    @cached_property
    def refresh_tokens(self) -> SqlRefreshTokenRepository:
        return SqlRefreshTokenRepository(self)

    @cached_property
    def login_failures(self) -> SqlLoginFailures:
        return SqlLoginFailures(self)

    @cached_property
    def idempotency_keys(self) -> SqlIdempotencyKeys:
        return SqlIdempotencyKeys(self)

    @cached_property
    def retention(self) -> SqlRetention:
        return SqlRetention(self)

    @cached_property
    def events(self) -> SqlEventLog:
        return SqlEventLog(self)

    @cached_property
    def personal_tokens(self) -> SqlPersonalTokens:
        return SqlPersonalTokens(self)

    @cached_property
    def webhooks(self) -> SqlWebhookRepository:
        return SqlWebhookRepository(self)

    @cached_property
    def transfer(self) -> SqlTransfer:
        return SqlTransfer(self)

    def _release(self) -> None:
        if self._holds_permit:
            self._holds_permit = False
            assert self._gate is not None
            self._gate.release()

    def _active(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open")
        return self._connection

    async def commit(self) -> None:
        deferred = self._deferred
        event = None if deferred is None else self.take_event(deferred["owner_id"], deferred["id"])
        if deferred is not None and not self._events:
            # The unit of work did nothing but this write (and its event): it commits by itself.
            self._deferred = None
            row = deferred if event is None else {**deferred, **event}
            sql, names = compiled_insert(self._engine.dialect, with_event=event is not None)
            arguments = [row[name] for name in names]
            await self._on_driver(_EXECUTE, sql, arguments, committing=True)
            return
        if self._deferred is not None or self._events:
            await self._send_held(first=not self._started)
        if self._active().in_transaction():
            await self._attempt(_commit, first=False, committing=True)

    async def rollback(self) -> None:
        self._deferred = None
        self._events = []
        with translated():
            await self._active().rollback()

    async def insert_note(self, row: dict[str, Any]) -> None:
        """Insert the row of one note, with its revision, on PostgreSQL: as the first
        write of a unit of work, held back until ``commit()`` or the next statement (see
        the class docstring)."""
        held = self._events
        alone = not held or (len(held) == 1 and _about(held[0], row["owner_id"], row["id"]))
        if self._postgres and not self._started and self._deferred is None and alone:
            # Sent with commit(), its event (held back before it) along.
            self._deferred = row
            return
        event = self.take_event(row["owner_id"], row["id"])
        if event is None:
            await self.execute(create_statement(), row, write=True)
        else:
            await self.execute(create_statement(with_event=True), {**row, **event}, write=True)

    def append_event(self, event: dict[str, Any]) -> None:
        self._events.append(event)

    def can_write_alone(self, owner_id: Any, note_id: Any) -> bool:
        events = self._events
        return (
            self._postgres
            and self._deferred is None
            and not self._active().in_transaction()
            and (not events or (len(events) == 1 and _about(events[0], owner_id, note_id)))
        )

    async def end_reads(self) -> None:
        connection = self._active()
        if not self._wrote and self._deferred is None and connection.in_transaction():
            with translated():
                await connection.rollback()

    async def write_alone(
        self, statement: sa.Select[Any], parameters: dict[str, Any]
    ) -> Mapping[Any, Any] | None:
        self._events = []
        sql, names = _compiled(statement, self._engine.dialect)
        arguments = [parameters[name] for name in names]
        row: Mapping[Any, Any] | None = await self._on_driver(
            _FETCH_ONE, sql, arguments, committing=True
        )
        return row

    def take_event(self, owner_id: Any, note_id: Any) -> dict[str, Any] | None:
        events = self._events
        if len(events) != 1:
            return None
        event = events[0]
        if not _about(event, owner_id, note_id):
            return None
        self._events = []
        return event

    async def _send_held(self, *, first: bool) -> bool:
        """Send what is held back (a note's creation, events) in the transaction; whether
        the next statement is still the unit of work's first."""
        self._started = True
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            event = self.take_event(deferred["owner_id"], deferred["id"])
            row = deferred if event is None else {**deferred, **event}
            held = _in_transaction(create_statement(with_event=event is not None), row, write=True)
            await self._attempt(held, first=first)
            first = False
        events, self._events = self._events, []
        if events:
            await flush_events(self, events)
            first = False
        return first

    async def execute(
        self, statement: sa.Executable, parameters: _Parameters = None, *, write: bool
    ) -> sa.CursorResult[Any]:
        """Run one statement in this unit of work's transaction, beginning it if needed;
        with a list of ``parameters``, once for each (executemany)."""
        first = not self._started
        self._started = True
        if self._deferred is not None or self._events:
            first = await self._send_held(first=first)
        self._wrote = self._wrote or write
        run = _in_transaction(statement, parameters, write=write)
        return await self._attempt(run, first=first)

    def _direct(self) -> bool:
        """Whether the next statement goes to the driver directly: on PostgreSQL, as the
        first statement of the unit of work, with no held-back write to send before it."""
        return self._postgres and not self._started and self._deferred is None and not self._events

    async def fetch_one(
        self, statement: sa.Select[Any], parameters: dict[str, Any]
    ) -> Mapping[Any, Any] | None:
        """The first row a read finds, or None (see ``fetch_all``)."""
        if not self._direct():
            result = await self.execute(statement, parameters, write=False)
            return result.mappings().first()
        sql, names = _compiled(statement, self._engine.dialect)
        arguments = [parameters[name] for name in names]
        row: Mapping[Any, Any] | None = await self._on_driver(
            _FETCH_ONE, sql, arguments, committing=False
        )
        return row

    async def fetch_all(
        self, statement: sa.Select[Any], parameters: dict[str, Any]
    ) -> Sequence[Mapping[Any, Any]]:
        """Every row a read finds, as mappings from column names to values.

        ``statement`` must be built once, with named bind parameters, which ``parameters``
        gives by name. On PostgreSQL, as the first statement of the unit of work, it goes to
        the driver directly, compiled once, outside a transaction; elsewhere it is
        ``execute``.
        """
        if not self._direct():
            result = await self.execute(statement, parameters, write=False)
            return result.mappings().all()
        sql, names = _compiled(statement, self._engine.dialect)
        arguments = [parameters[name] for name in names]
        rows: Sequence[Mapping[Any, Any]] = await self._on_driver(
            _FETCH_ALL, sql, arguments, committing=False
        )
        return rows

    async def _on_driver(
        self, call: _Call, sql: str, arguments: list[Any], *, committing: bool
    ) -> Any:
        """``call(driver, sql, *arguments)`` on the asyncpg connection, as the first statement
        of the unit of work, outside a transaction."""
        self._started = True

        async def run(connection: AsyncConnection) -> Any:
            return await call(await _driver(connection), sql, *arguments)

        return await self._attempt(run, first=True, committing=committing)

    async def _attempt(
        self,
        run: Callable[[AsyncConnection], Awaitable[T]],
        *,
        first: bool,
        committing: bool = False,
    ) -> T:
        """``run`` on this unit of work's connection, under the retry policy of the class
        docstring; failures translated into the ports' errors."""
        for attempt in (1, 2):
            connection = self._active()
            try:
                return await run(connection)
            except DRIVER_ERRORS as error:
                failure = failure_of(error, closed=await _closed(connection))
                if failure.replaces_connections:
                    retire_older(self._engine)
                    await self._drop(connection, error)
                    again = first and failure.dead and (failure.unsent or not committing)
                    if attempt == 1 and again:
                        with translated():
                            self._connection = await self._engine.connect()
                        continue
                replacement = port_error(error, failure, committing=committing)
                if replacement is None:
                    raise
                raise replacement from cause(replacement, error)
        raise AssertionError("unreachable")

    async def _drop(self, connection: AsyncConnection, error: BaseException) -> None:
        """Discard ``connection``; the unit of work has none until it connects again."""
        self._connection = None
        try:
            if not connection.invalidated:
                await connection.invalidate(error)
        finally:
            await connection.close()
            # An exit without a connection has nothing to roll back, and must not fail on one.
            self._connection = None


def _about(event: dict[str, Any], owner_id: Any, note_id: Any) -> bool:
    """Whether a held-back event is about this note."""
    return bool(event["event_owner_id"] == owner_id and event["event_note_id"] == note_id)


async def _commit(connection: AsyncConnection) -> None:
    await connection.commit()


def _in_transaction(
    statement: sa.Executable, parameters: _Parameters, *, write: bool
) -> Callable[[AsyncConnection], Awaitable[sa.CursorResult[Any]]]:
    """Running ``statement`` on a connection, in its transaction, begun if need be."""

    async def run(connection: AsyncConnection) -> sa.CursorResult[Any]:
        if not connection.in_transaction():
            if write:
                begin_for_write(connection)
            await connection.begin()
        return await connection.execute(statement, parameters)

    return run


async def _driver(connection: AsyncConnection) -> Any:
    """The asyncpg connection under ``connection``: asked of SQLAlchemy once per pooled
    connection, then remembered in its ``info`` (which SQLAlchemy keeps for the life of the
    driver's connection and clears when it replaces it)."""
    info = connection.info
    driver = info.get(_DRIVER)
    if driver is None:
        driver = (await connection.get_raw_connection()).driver_connection
        info[_DRIVER] = driver
    return driver


async def _closed(connection: AsyncConnection) -> bool:
    """Whether ``connection``'s driver connection is closed (or SQLAlchemy gave it up)."""
    if connection.invalidated:
        return True
    if connection.dialect.name != "postgresql":
        return False
    try:
        driver = await _driver(connection)
    except sa.exc.SQLAlchemyError:
        return True
    return driver is None or bool(driver.is_closed())


@lru_cache(maxsize=256)
def _compiled(statement: sa.Select[Any], dialect: sa.Dialect) -> tuple[str, tuple[str, ...]]:
    """The SQL of ``statement`` for ``dialect``, and the names of its parameters in order."""
    compiled = statement.compile(dialect=dialect)
    return compiled.string, tuple(compiled.positiontup or ())
