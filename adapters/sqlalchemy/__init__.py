"""The SQL persistence adapter: PostgreSQL through asyncpg and SQLite through aiosqlite.

One schema (``tables``), one repository and unit of work (``database``), driver errors
translated into the ports' errors (``errors``), and the engine factory (``engine``).
"""

from adapters.sqlalchemy.database import SqlDatabase, SqlNoteRepository, SqlUnitOfWork
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.tables import metadata

__all__ = ["SqlDatabase", "SqlNoteRepository", "SqlUnitOfWork", "create_engine", "metadata"]
