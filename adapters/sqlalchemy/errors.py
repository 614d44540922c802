"""Translation of driver errors into the ports' errors, so the core never sees SQLAlchemy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy.exc as sa_exc

from application.errors import Conflict, InvalidData, QuotaExceeded, StorageUnavailable

__all__ = ["DRIVER_ERRORS", "UNAVAILABLE_CLASSES", "driver_error", "is_dead", "translated"]

# SQLSTATE classes: 08 connection exception, 53 insufficient resources (too many
# connections, disk full), 57 operator intervention (shutdown, cannot connect now),
# 58 system error (I/O). 40 is a transaction rollback: serialization failure or deadlock.
UNAVAILABLE_CLASSES = frozenset({"08", "53", "57", "58"})
_RETRYABLE_CLASS = "40"
_INTEGRITY_CLASS = "23"
# Raised by the quota triggers of migration 0004.
_QUOTA_STATES: Final = {"NQ001": "notes", "NQ002": "stored bytes"}
_QUOTA_MESSAGES: Final = {"notes quota: notes": "notes", "notes quota: bytes": "stored bytes"}
# 22: data exception (a value out of range or not valid for its type): the client's input.
_DATA_CLASS = "22"

DRIVER_ERRORS: Final = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresError,
)
"""What asyncpg raises when a statement sent to it directly fails."""


def _sqlstate(error: sa_exc.DBAPIError) -> str:
    for candidate in (error.orig, getattr(error.orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return ""


def _quota(error: BaseException | None) -> QuotaExceeded | None:
    """The quota a trigger refused a write for (by SQLSTATE on PostgreSQL, by message on
    SQLite), if that is what ``error`` is."""
    for candidate in (error, getattr(error, "__cause__", None)):
        state = str(getattr(candidate, "sqlstate", "") or "")
        if state in _QUOTA_STATES:
            return QuotaExceeded(_QUOTA_STATES[state])
    what = _QUOTA_MESSAGES.get(str(error))
    return QuotaExceeded(what) if what is not None else None


@contextmanager
def translated() -> Iterator[None]:
    """Raise ``StorageUnavailable`` for an unreachable or failing database, ``Conflict``
    for a broken uniqueness rule or a lost serialization race, and ``InvalidData`` (without
    the driver's message, which quotes the value) for a value the database refuses; let
    every other error (a bug) through unchanged."""
    try:
        yield
    except sa_exc.IntegrityError as error:
        quota = _quota(error.orig)
        if quota is not None:
            raise quota from None
        raise Conflict("the write conflicts with stored data") from error
    except sa_exc.DBAPIError as error:
        sqlstate = _sqlstate(error)
        quota = _quota(error.orig)
        if quota is not None:
            raise quota from None
        if isinstance(error, sa_exc.DataError) or sqlstate[:2] == _DATA_CLASS:
            # The driver's message quotes the value: it goes no further than this cause.
            raise InvalidData("the storage refused a value") from None
        if sqlstate[:2] == _RETRYABLE_CLASS:
            raise Conflict("the write lost a race with a concurrent one") from error
        if (
            error.connection_invalidated
            or isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError))
            or sqlstate[:2] in UNAVAILABLE_CLASSES
        ):
            raise StorageUnavailable("the database is unavailable") from error
        raise
    except (sa_exc.TimeoutError, OSError, TimeoutError) as error:
        raise StorageUnavailable("the database is unavailable") from error


def is_dead(error: BaseException, driver: Any) -> bool:
    """Whether ``error``, raised by asyncpg's connection ``driver``, means the connection
    is gone (closed, reset, terminated by the server): it must be dropped."""
    sqlstate = str(getattr(error, "sqlstate", "") or "")
    return bool(
        driver.is_closed()
        # InternalClientError: the server's farewell (a FATAL error) arrived while the
        # connection sat in the pool, and the driver, which has not seen it close yet,
        # refuses any statement.
        or isinstance(
            error, (OSError, asyncpg.ConnectionDoesNotExistError, asyncpg.InternalClientError)
        )
        or sqlstate[:2] == "08"
        or sqlstate == "57P01"
    )


def driver_error(error: BaseException, *, dead: bool) -> BaseException:
    """What ``translated`` makes of the same failure when SQLAlchemy runs the statement, for
    an asyncpg error raised by a statement sent to the driver directly: ``Conflict`` for a
    broken uniqueness rule or a lost race, ``StorageUnavailable`` for a database that
    cannot be reached or fails, and ``error`` itself otherwise (a bug)."""
    sqlstate = str(getattr(error, "sqlstate", "") or "")
    quota = _quota(error)
    if quota is not None:
        return quota
    if isinstance(error, asyncpg.DataError) or sqlstate[:2] == _DATA_CLASS:
        return InvalidData("the storage refused a value")
    if sqlstate[:2] == _INTEGRITY_CLASS:
        return Conflict("the write conflicts with stored data")
    if sqlstate[:2] == _RETRYABLE_CLASS:
        return Conflict("the write lost a race with a concurrent one")
    if (
        dead
        or isinstance(error, (OSError, TimeoutError, asyncpg.InterfaceError))
        or sqlstate[:2] in UNAVAILABLE_CLASSES
    ):
        return StorageUnavailable("the database is unavailable")
    return error
