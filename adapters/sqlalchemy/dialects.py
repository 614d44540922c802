"""What differs between PostgreSQL, SQLite and MySQL/MariaDB, in one place.

SQLite has no row locks: a unit of work that writes (or reads for update) takes the
database's write lock when its transaction begins (``BEGIN IMMEDIATE``), which is how it
keeps the port's locking promise. Each dialect has its own ``INSERT … ON CONFLICT``.

MySQL 8 and MariaDB 10.11+ (dialect name ``mysql``) lock rows as PostgreSQL does, under
READ COMMITTED (``engine.MYSQL_ISOLATION``). Each connection works in UTC, in strict SQL
mode, with lock waits and statements bounded (``configure_mysql``). The repositories take
SQLite's path (one statement after the other: MySQL has no ``RETURNING`` and no
data-modifying CTEs); search narrows with a FULLTEXT index and decides exactly
(``adapters.sqlalchemy.finding``); the quota triggers of migration 0004 ``SIGNAL`` the
messages SQLite raises.

Writing a migration (or a statement) that works on MySQL too:

* Create each table with ``**mysql_table_options(op.get_bind())``: InnoDB, ``utf8mb4``
  (every character, 4-byte ones included) and a binary, no-pad collation, so that text
  compares exactly as on the other databases (MySQL's default collations ignore case,
  accents and trailing spaces). Something compared regardless of case is stored
  lower-cased in a column of its own, as ``users.username_key`` is.
* Timestamps: ``sa.DateTime(timezone=True).with_variant(MYSQL_DATETIME, "mysql")`` (a plain
  ``DATETIME`` drops the microseconds); columns of ``UtcDateTime`` in ``tables.py`` do it
  themselves. Text that may exceed 65,535 bytes (user content): ``LONG_TEXT``
  (``MEDIUMTEXT`` on MySQL). A ``TEXT`` column cannot be a plain index's key, nor carry a
  literal default: give a default as an expression (``sa.text("('')")``) on MySQL. An
  index's key is at most 3,072 bytes, 4 per character: a ``VARCHAR(255)`` fits.
* No ``RETURNING``, no ``ON CONFLICT``, no data-modifying CTE, no partial or GIN index, no
  ``ALTER INDEX``: write the MySQL branch with ``SELECT … FOR UPDATE`` then the write
  (``mysql.insert(…).on_duplicate_key_update`` for an upsert), and skip or replace the
  index (and name what is skipped in ``tables.SKIPPED_ON_MYSQL`` so the autogenerate
  comparison agrees).
* DDL commits by itself on MySQL: a failing revision leaves the statements before it
  applied, so each revision should be safe to run again from its start or be small.
* Triggers: ``SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = …``; ``errors.py`` reads the
  message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy.finding import RELEVANCE_FUNCTION, sqlite_relevance

__all__ = [
    "begin_for_write",
    "bulk_insert",
    "configure_mysql",
    "configure_sqlite",
    "insert_on_conflict",
    "mysql_collation",
    "mysql_table_options",
    "mysql_upsert",
]

_MYSQL_SQL_MODE: Final = (
    "STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION"
)

_BEGIN = "sqlite_begin"


def insert_on_conflict(table: sa.Table, dialect: str) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` into ``table`` with the dialect's ``ON CONFLICT`` clauses available
    (PostgreSQL and SQLite; MySQL has ``mysql_upsert``)."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def mysql_upsert(table: sa.Table) -> mysql.Insert:
    """``INSERT`` into ``table`` with MySQL's ``ON DUPLICATE KEY UPDATE`` available."""
    return mysql.insert(table)


def mysql_collation(bind: sa.Connection) -> str:
    """The binary, no-pad ``utf8mb4`` collation of the server ``bind`` is connected to:
    text compares exactly, trailing spaces included, as on PostgreSQL and SQLite."""
    mariadb = getattr(bind.dialect, "is_mariadb", False)
    return "utf8mb4_nopad_bin" if mariadb else "utf8mb4_0900_bin"


def mysql_table_options(bind: sa.Connection) -> dict[str, str]:
    """The options of a new table on MySQL (nothing elsewhere): see the module docstring."""
    if bind.dialect.name != "mysql":
        return {}
    return {
        "mysql_engine": "InnoDB",
        "mysql_charset": "utf8mb4",
        "mysql_collate": mysql_collation(bind),
    }


def configure_mysql(engine: AsyncEngine, *, statement_timeout: float | None) -> None:
    """Set up each new MySQL connection: UTC (timestamps are stored as UTC wall time),
    strict SQL mode (a value that does not fit is an error, never truncated), the
    ``utf8mb4`` character set and, with ``statement_timeout``, the longest a statement
    runs and a lock is waited for (MariaDB's ``max_statement_time``; MySQL bounds only
    reads, with ``max_execution_time``)."""

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The dialect has read the server's version on the pool's first connection.
        mariadb = bool(getattr(engine.dialect, "is_mariadb", False))
        settings = [
            "time_zone = '+00:00'",
            f"sql_mode = '{_MYSQL_SQL_MODE}'",
        ]
        if statement_timeout is not None:
            settings.append(f"innodb_lock_wait_timeout = {max(1, int(statement_timeout))}")
            if mariadb:
                settings.append(f"max_statement_time = {statement_timeout:.3f}")
            else:
                settings.append(f"max_execution_time = {int(statement_timeout * 1000)}")
        cursor = dbapi_connection.cursor()
        collation = "utf8mb4_nopad_bin" if mariadb else "utf8mb4_0900_bin"
        cursor.execute(f"SET NAMES utf8mb4 COLLATE {collation}")
        cursor.execute("SET SESSION " + ", ".join(settings))
        cursor.close()


Rows = Sequence[Mapping[str, Any]]


def bulk_insert(table: sa.Table, dialect: str, rows: Rows) -> tuple[sa.Insert, Any]:
    """An ``INSERT`` of ``rows`` (each with every column of ``table``) and its parameters,
    in as few statements and round trips as ``dialect`` allows.

    PostgreSQL: one statement whatever the number of rows, each column's values sent as one
    array that ``unnest`` turns back into rows: the server parses and plans a statement with
    a parameter per column rather than per value, and the driver encodes each array in one
    go. An array column (the tags) travels as the text of each row's array, cast back.
    Elsewhere: multi-row ``VALUES`` batches (``_many_values``).
    """
    if dialect != "postgresql":
        return _many_values(table, dialect), rows
    statement, names, arrays = _unnest_insert(table)
    columns = {
        name: [_array_text(row[name]) for row in rows]
        if name in arrays
        else [row[name] for row in rows]
        for name in names
    }
    return statement, columns


@lru_cache(maxsize=64)
def _many_values(table: sa.Table, dialect: str) -> sa.Insert:
    """An ``INSERT`` into ``table`` that, run with a list of rows, goes out as multi-row
    ``VALUES`` batches rather than a statement per row.

    SQLAlchemy batches so ("insertmanyvalues") on SQLite only for an ``INSERT …
    RETURNING``, and otherwise hands the rows to the driver's ``executemany``; so there it
    returns the first column of the key (the rows' owner, already known).
    """
    statement = table.insert()
    if dialect == "sqlite":
        statement = statement.returning(next(iter(table.primary_key.columns)))
    return statement


_POSTGRESQL: Final = postgresql.dialect()  # type: ignore[no-untyped-call]


@lru_cache(maxsize=64)
def _unnest_insert(table: sa.Table) -> tuple[sa.Insert, tuple[str, ...], frozenset[str]]:
    """``INSERT INTO table (…) SELECT … FROM unnest(:col1, :col2, …)``, a bound array per
    column; the names of the columns, and of those that are arrays themselves (bound as
    text)."""
    names = tuple(column.name for column in table.c)
    arrays = frozenset(
        name for name in names if isinstance(_postgresql_type(table.c[name]), postgresql.ARRAY)
    )
    bound = [
        sa.bindparam(name, type_=postgresql.ARRAY(sa.Text() if name in arrays else column.type))
        for name, column in table.c.items()
    ]
    rows = sa.func.unnest(*bound).table_valued(*names).render_derived()
    values = [
        sa.cast(rows.c[name], _postgresql_type(table.c[name])) if name in arrays else rows.c[name]
        for name in names
    ]
    return table.insert().from_select(names, sa.select(*values)), names, arrays


def _postgresql_type(column: sa.Column[Any]) -> sa.types.TypeEngine[Any]:
    """The type ``column`` has on PostgreSQL (what a ``TypeDecorator`` stands for there)."""
    declared = column.type
    if isinstance(declared, sa.TypeDecorator):
        return declared.load_dialect_impl(_POSTGRESQL)
    return declared


def _array_text(values: Sequence[str] | None) -> str | None:
    """A PostgreSQL array literal of text values: each quoted, backslashes and quotes
    escaped."""
    if values is None:
        return None
    quoted = (value.replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return "{" + ",".join(f'"{value}"' for value in quoted) + "}"


def begin_for_write(connection: AsyncConnection) -> None:
    """Have the transaction ``connection`` begins next take the write lock on SQLite (on
    PostgreSQL, row locks do that job, statement by statement)."""
    if connection.dialect.name == "sqlite":
        connection.info[_BEGIN] = "BEGIN IMMEDIATE"


def configure_sqlite(engine: AsyncEngine) -> None:
    """Let the unit of work decide how each SQLite transaction begins.

    The driver's own implicit transactions are turned off; a transaction starts with the
    statement ``begin_for_write`` chose: ``BEGIN IMMEDIATE`` to take the write lock before
    reading what is about to be changed (SQLite's equivalent of ``SELECT … FOR UPDATE``),
    plain ``BEGIN`` to read. Write-ahead logging lets readers go on while a writer holds the
    lock.
    """

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.create_function(
            RELEVANCE_FUNCTION, 3, sqlite_relevance, deterministic=True
        )
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql(connection.info.pop(_BEGIN, "BEGIN"))
