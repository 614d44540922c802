"""The SQL persistence adapter: PostgreSQL through asyncpg, SQLite through aiosqlite, MySQL
and MariaDB through asyncmy.

One schema (``tables``); what differs between the databases (``dialects``); a unit
of work (``unit_of_work``) that owns one connection and one transaction, with one repository
module per aggregate (``notes``, ``users``, ``refresh_tokens``, ``login_failures``,
``idempotency_keys``), and every owner's records in bulk for ``notes db copy``
(``transfer``); driver errors judged once (``errors``); several hosts in a URL
(``urls``); replacing stale pooled connections (``freshness``); and the engine factory
(``engine``).
"""

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.idempotency_keys import SqlIdempotencyKeys
from adapters.sqlalchemy.login_failures import SqlLoginFailures
from adapters.sqlalchemy.notes import SqlNoteRepository
from adapters.sqlalchemy.refresh_tokens import SqlRefreshTokenRepository
from adapters.sqlalchemy.tables import metadata
from adapters.sqlalchemy.unit_of_work import SqlDatabase, SqlUnitOfWork
from adapters.sqlalchemy.users import SqlUserRepository

__all__ = [
    "SqlDatabase",
    "SqlIdempotencyKeys",
    "SqlLoginFailures",
    "SqlNoteRepository",
    "SqlRefreshTokenRepository",
    "SqlUnitOfWork",
    "SqlUserRepository",
    "create_engine",
    "metadata",
]
