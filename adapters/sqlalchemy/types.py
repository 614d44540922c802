"""Column types that keep the domain's values identical on every database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect

__all__ = ["LONG_TEXT", "MYSQL_DATETIME", "TagList", "UtcDateTime"]

MYSQL_DATETIME: Final = mysql.DATETIME(fsp=6)
"""A timestamp to the microsecond on MySQL."""
LONG_TEXT: Final = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
"""Text of any length the service accepts: MySQL's ``TEXT`` holds 65,535 bytes, less than
100,000 characters of UTF-8; ``MEDIUMTEXT`` holds 16 MiB."""
_WALL_TIME: Final = frozenset({"sqlite", "mysql"})


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp, microsecond precision.

    PostgreSQL stores it as ``timestamp with time zone``. SQLite has no such type: there it is
    the UTC wall time in SQLAlchemy's fixed-width text format, which sorts chronologically,
    and the UTC zone is put back on the way out. MySQL stores the UTC wall time as
    ``DATETIME(6)`` (microseconds; a plain ``DATETIME`` would drop them).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "mysql":
            return dialect.type_descriptor(MYSQL_DATETIME)
        return super().load_dialect_impl(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("naive datetimes are not stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name in _WALL_TIME else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TagList(sa.TypeDecorator[list[str]]):
    """A list of tags: a ``text[]`` on PostgreSQL (indexable with GIN), JSON elsewhere."""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(sa.Text()))
        return dialect.type_descriptor(sa.JSON())

    def process_bind_param(self, value: Any, dialect: Dialect) -> list[str] | None:
        return None if value is None else list(value)
