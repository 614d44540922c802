"""Driver errors, judged once: what they mean for the connection, and for the ports.

An error comes either from SQLAlchemy (a ``DBAPIError`` wrapping the driver's) or from
asyncpg itself, for statements sent to it directly; ``failure_of`` reads both alike.
``port_error`` is what the core sees instead: ``Conflict``, ``StorageUnavailable`` or
``OutcomeUnknown``, with a message naming the driver's error (for the log, never for
clients), or the error itself when it is a bug.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

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
# SQLite.
_QUOTA_STATES: Final = {"NQ001": "notes", "NQ002": "stored bytes"}
_QUOTA_MESSAGES: Final = {"notes quota: notes": "notes", "notes quota: bytes": "stored bytes"}

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
    )
    return Failure(dead=dead, read_only=_sqlstate(driver) == _READ_ONLY, unsent=unsent)


def describe(error: BaseException) -> str:
    """The driver's error class, SQLSTATE and message, for a log line. Never a statement's
    values: a data exception's message, which quotes them, is left out, as is the message
    of an error raised by the driver while encoding them."""
    driver = _driver_error(error)
    kind = type(driver)
    name = f"{kind.__module__}.{kind.__qualname__}"
    sqlstate = _sqlstate(driver)
    quotes_values = sqlstate[:2] == _DATA_CLASS or isinstance(
        driver, asyncpg.DataError | sa_exc.StatementError
    )
    message = "" if quotes_values else str(driver).splitlines()[0] if str(driver) else ""
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
    if sqlstate[:2] == _DATA_CLASS or isinstance(driver, asyncpg.DataError | sa_exc.DataError):
        return InvalidData("the storage refused a value")
    if sqlstate[:2] == _INTEGRITY_CLASS or isinstance(error, sa_exc.IntegrityError):
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
    what = _QUOTA_MESSAGES.get(str(driver))
    return QuotaExceeded(what) if what is not None else None
