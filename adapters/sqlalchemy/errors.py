"""Driver errors, judged once: what they mean for the connection, and for the ports.

An error comes either from SQLAlchemy (a ``DBAPIError`` wrapping the driver's) or from
asyncpg itself, for statements sent to it directly; ``failure_of`` reads both alike.
MySQL's errors (asyncmy's) carry MySQL's error number, read by the same rules: a deadlock
or a lock wait that timed out lost a race (``Conflict``), a duplicate key or a broken
foreign key conflicts with stored data, a value that does not fit is the client's, a lost
connection or a server going away leaves it dead.
``port_error`` is what the core sees instead: ``Conflict``, ``StorageUnavailable`` or
``OutcomeUnknown``, with a message naming the driver's error (for the log, never for
clients), or the error itself when it is a bug.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import asyncmy.errors
import asyncpg  # type: ignore[import-untyped]
import sqlalchemy.exc as sa_exc

from application.errors import (
    Conflict,
    InvalidData,
    OutcomeUnknown,
    QuotaExceeded,
    StorageUnavailable,
)

__all__ = [
    "DRIVER_ERRORS",
    "Failure",
    "cause",
    "describe",
    "duplicate_key",
    "failure_of",
    "port_error",
    "translated",
]

# SQLSTATE classes: 08 connection exception, 53 insufficient resources (too many
# connections, disk full), 57 operator intervention (shutdown, cannot connect now),
# 58 system error (I/O). 40 is a transaction rollback: serialization failure or deadlock.
_UNAVAILABLE_CLASSES: Final = frozenset({"08", "53", "57", "58"})
_RETRYABLE_CLASS: Final = "40"
_INTEGRITY_CLASS: Final = "23"
# Data exceptions (a value out of range or not valid for its type: the client's input)
# quote the value they reject.
_DATA_CLASS: Final = "22"
_READ_ONLY: Final = "25006"
# Raised by the quota triggers of migration 0004: by SQLSTATE on PostgreSQL, by message on
# SQLite and MySQL.
_QUOTA_STATES: Final = {"NQ001": "notes", "NQ002": "stored bytes"}
_QUOTA_MESSAGES: Final = {"notes quota: notes": "notes", "notes quota: bytes": "stored bytes"}

# MySQL error numbers, by what they mean here.
_MYSQL_DEAD: Final = frozenset({1053, 1927, 2006, 2013, 2055, 4031})  # gone, killed, shut down
_MYSQL_UNAVAILABLE: Final = frozenset(
    {1021, 1040, 1203, 1317, 1969, 2002, 2003, 3024}  # full, too many, interrupted, timed out
)
_MYSQL_RETRYABLE: Final = frozenset({1205, 1213})  # lock wait timeout, deadlock
_MYSQL_INTEGRITY: Final = frozenset({1048, 1062, 1451, 1452, 3819, 4025})
_MYSQL_DATA: Final = frozenset({1264, 1265, 1292, 1366, 1367, 1406, 3140})
_MYSQL_READ_ONLY: Final = frozenset({1290, 1792, 1836})
_MYSQL_SIGNAL: Final = 1644  # a trigger's SIGNAL: its message says which quota

DRIVER_ERRORS: Final = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresError,
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
)
"""What running a statement raises when the database, not the code, fails."""


@dataclass(frozen=True, slots=True)
class Failure:
    """What one failed statement says about its connection.

    ``dead``: the connection is gone (closed, reset, terminated): drop it, and every
    connection made as long ago. ``read_only``: the server is a standby now: the same.
    ``unsent``: the driver refused the statement before sending it (it knew the connection
    closed), so the statement certainly had no effect. A connection error the server
    reports on a connection that stays open (SQLSTATE class 08 as an ordinary error, a
    coordinator speaking for a dead worker) is none of these: the pool keeps it.
    """

    dead: bool
    read_only: bool
    unsent: bool

    @property
    def replaces_connections(self) -> bool:
        return self.dead or self.read_only


def _driver_error(error: BaseException) -> BaseException:
    """The driver's own error under SQLAlchemy's wrapping (asyncpg's, when there is one)."""
    if isinstance(error, sa_exc.DBAPIError) and error.orig is not None:
        inner: BaseException = error.orig
        cause = inner.__cause__
        return cause if cause is not None else inner
    return error


def _mysql_code(error: BaseException) -> int:
    """MySQL's error number of an asyncmy error; 0 for any other error."""
    if isinstance(error, asyncmy.errors.MySQLError) and error.args:
        code = error.args[0]
        return code if isinstance(code, int) else 0
    return 0


def _mysql_message(error: BaseException) -> str:
    if isinstance(error, asyncmy.errors.MySQLError) and len(error.args) > 1:
        return str(error.args[1])
    return ""


def duplicate_key(error: BaseException | None) -> bool:
    """Whether ``error`` is MySQL's refusal of a duplicate key."""
    return error is not None and _mysql_code(_driver_error(error)) == 1062


def _sqlstate(error: BaseException) -> str:
    code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return code if isinstance(code, str) else ""


def failure_of(error: BaseException, *, closed: bool) -> Failure:
    """What ``error`` says about the connection it was raised on; ``closed``: whether the
    driver connection is closed now."""
    driver = _driver_error(error)
    invalidated = isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated
    unsent = isinstance(driver, asyncpg.InternalClientError) or (
        # asyncpg says "the underlying connection is closed" when it sends nothing.
        isinstance(driver, asyncpg.InterfaceError)
        and "closed" in str(driver)
        and not isinstance(driver, asyncpg.ConnectionDoesNotExistError)
    )
    dead = (
        closed
        or invalidated
        or unsent
        or isinstance(driver, OSError)
        # The server's farewell: terminated by an administrator or shutting down.
        or _sqlstate(driver) in {"57P01", "57P02", "57P03"}
        or _mysql_code(driver) in _MYSQL_DEAD
    )
    read_only = _sqlstate(driver) == _READ_ONLY or _mysql_code(driver) in _MYSQL_READ_ONLY
    return Failure(dead=dead, read_only=read_only, unsent=unsent)


def describe(error: BaseException) -> str:
    """The driver's error class, SQLSTATE and message, for a log line. Never a statement's
    values: a data exception's message, which quotes them, is left out, as is the message
    of an error raised by the driver while encoding them."""
    driver = _driver_error(error)
    kind = type(driver)
    name = f"{kind.__module__}.{kind.__qualname__}"
    sqlstate = _sqlstate(driver)
    code = _mysql_code(driver)
    if code:
        sqlstate = f"mysql {code}"
    quotes_values = (
        sqlstate[:2] == _DATA_CLASS
        or code in _MYSQL_DATA
        or code in _MYSQL_INTEGRITY  # a duplicate key's message quotes the key
        or isinstance(driver, asyncpg.DataError | sa_exc.StatementError)
    )
    text = _mysql_message(driver) if code else str(driver)
    message = "" if quotes_values else text.splitlines()[0] if text else ""
    parts = [name] + ([sqlstate] if sqlstate else []) + ([message] if message else [])
    return ": ".join(parts)


def port_error(error: BaseException, failure: Failure, *, committing: bool) -> BaseException | None:
    """What the core sees for ``error``: ``QuotaExceeded`` for a write a quota trigger
    refused, ``InvalidData`` for a value the database refuses, ``Conflict`` for a broken
    uniqueness rule or a lost race, ``OutcomeUnknown`` when ``committing`` (a ``COMMIT``,
    or a write that commits by itself) was sent and the connection died before the answer
    came, ``StorageUnavailable`` for a database that cannot be reached, fails or is
    read-only, and ``None`` for a bug."""
    driver = _driver_error(error)
    sqlstate = _sqlstate(driver)
    reason = describe(error)
    quota = _quota(driver)
    if quota is not None:
        return quota
    code = _mysql_code(driver)
    if code in _MYSQL_RETRYABLE:
        return Conflict("the write lost a race with a concurrent one")
    if (
        sqlstate[:2] == _DATA_CLASS
        or code in _MYSQL_DATA
        or isinstance(driver, asyncpg.DataError | sa_exc.DataError)
    ):
        return InvalidData("the storage refused a value")
    if (
        sqlstate[:2] == _INTEGRITY_CLASS
        or code in _MYSQL_INTEGRITY
        or isinstance(error, sa_exc.IntegrityError)
    ):
        return Conflict("the write conflicts with stored data")
    if sqlstate[:2] == _RETRYABLE_CLASS:
        return Conflict("the write lost a race with a concurrent one")
    if failure.dead and committing and not failure.unsent:
        return OutcomeUnknown("the outcome of a commit is unknown", reason=reason)
    if (
        failure.dead
        or failure.read_only
        or isinstance(
            error,
            OSError
            | TimeoutError
            | sa_exc.TimeoutError
            | sa_exc.OperationalError
            | sa_exc.InterfaceError,
        )
        or isinstance(driver, OSError | TimeoutError | asyncpg.InterfaceError)
        or sqlstate[:2] in _UNAVAILABLE_CLASSES
        or code in _MYSQL_DEAD | _MYSQL_UNAVAILABLE | _MYSQL_READ_ONLY
    ):
        return StorageUnavailable("the database is unavailable", reason=reason)
    return None


@contextmanager
def translated() -> Iterator[None]:
    """Raise the port's error for a failing database (see ``port_error``), for work that
    never commits anything by itself; let every other error (a bug) through unchanged."""
    try:
        yield
    except DRIVER_ERRORS as error:
        failure = failure_of(error, closed=False)
        replacement = port_error(error, failure, committing=False)
        if replacement is None:
            raise
        raise replacement from cause(replacement, error)


def cause(replacement: BaseException, error: BaseException) -> BaseException | None:
    """What ``replacement`` is raised from: ``error``, unless its message may quote the
    values of the statement (a refused value, a quota trigger's refusal), which goes no
    further."""
    return None if isinstance(replacement, InvalidData | QuotaExceeded) else error


def _quota(driver: BaseException) -> QuotaExceeded | None:
    """The quota a trigger refused a write for, if that is what ``driver`` says."""
    state = _sqlstate(driver)
    if state in _QUOTA_STATES:
        return QuotaExceeded(_QUOTA_STATES[state])
    message = _mysql_message(driver) if _mysql_code(driver) == _MYSQL_SIGNAL else str(driver)
    what = _QUOTA_MESSAGES.get(message)
    return QuotaExceeded(what) if what is not None else None
