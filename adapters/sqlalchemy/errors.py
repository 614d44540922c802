"""Translation of driver errors into the ports' errors, so the core never sees SQLAlchemy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy.exc as sa_exc

from application.errors import Conflict, StorageUnavailable

__all__ = ["UNAVAILABLE_CLASSES", "translated"]

# SQLSTATE classes: 08 connection exception, 53 insufficient resources (too many
# connections, disk full), 57 operator intervention (shutdown, cannot connect now),
# 58 system error (I/O). 40 is a transaction rollback: serialization failure or deadlock.
UNAVAILABLE_CLASSES = frozenset({"08", "53", "57", "58"})
_RETRYABLE_CLASS = "40"


def _sqlstate(error: sa_exc.DBAPIError) -> str:
    for candidate in (error.orig, getattr(error.orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return ""


@contextmanager
def translated() -> Iterator[None]:
    """Raise ``StorageUnavailable`` for an unreachable or failing database and ``Conflict``
    for a broken uniqueness rule or a lost serialization race; let every other error (a bug)
    through unchanged."""
    try:
        yield
    except sa_exc.IntegrityError as error:
        raise Conflict("the write conflicts with stored data") from error
    except sa_exc.DBAPIError as error:
        sqlstate = _sqlstate(error)
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
