"""What differs between PostgreSQL and SQLite, in one place.

SQLite has no row locks: a unit of work that writes (or reads for update) takes the
database's write lock when its transaction begins (``BEGIN IMMEDIATE``), which is how it
keeps the port's locking promise. Each dialect has its own ``INSERT … ON CONFLICT``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy.finding import RELEVANCE_FUNCTION, sqlite_relevance

__all__ = ["begin_for_write", "bulk_insert", "configure_sqlite", "insert_on_conflict"]

_BEGIN = "sqlite_begin"


def insert_on_conflict(table: sa.Table, dialect: str) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` into ``table`` with the dialect's ``ON CONFLICT`` clauses available."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


@lru_cache(maxsize=64)
def bulk_insert(table: sa.Table, dialect: str) -> sa.Insert:
    """An ``INSERT`` into ``table`` that, run with a list of rows, goes out as multi-row
    ``VALUES`` batches rather than a statement per row.

    SQLAlchemy batches so ("insertmanyvalues") on PostgreSQL and SQLite only for an
    ``INSERT … RETURNING``, and otherwise hands the rows to the driver's ``executemany``;
    so there it returns the first column of the key (the rows' owner, already known).
    """
    statement = table.insert()
    if dialect in ("postgresql", "sqlite"):
        statement = statement.returning(next(iter(table.primary_key.columns)))
    return statement


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
