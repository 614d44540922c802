"""Alembic's environment: runs revisions over an async engine.

The database URL comes from the Alembic config when the service's own ``notes db`` command
(or a test) sets it, and otherwise from the service's settings (``NOTES_DATABASE_URL``), so
plain ``alembic upgrade head`` migrates the database the service would use. A caller may also
hand over an open connection in ``config.attributes["connection"]``.

Each revision runs in a transaction of its own (``transaction_per_migration``): a distributed
database (Citus) refuses DDL on a table after parallel DDL on another in one transaction, and
one revision's failure then leaves the revisions before it applied. On a database with the
``citus`` extension the session also asks for sequential shard access for the same reason.
Two processes migrating at once are serialised by a session advisory lock held for the whole
run, so migrate over a direct (or session-pooled) connection, not a transaction pooler.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import context

from adapters.sqlalchemy.engine import migration_engine
from adapters.sqlalchemy.tables import comparison_filter, metadata

config = context.config
# Any fixed number: held while migrating so that two processes starting at once do not both
# try to build the schema.
_MIGRATION_LOCK = 7_214_613_377


def _url() -> str:
    # Configured from pyproject.toml alone, there is no .ini section to read a URL from.
    has_ini = config.file_config.has_section(config.config_ini_section)
    url = config.get_main_option("sqlalchemy.url") if has_ini else None
    if url:
        return url
    from entrypoints.settings import Settings  # the service's own configuration

    configured = Settings().database_url
    if not configured or configured.startswith("memory:"):
        raise SystemExit(
            "No database URL: set NOTES_DATABASE_URL, or run `notes db upgrade`, which also "
            "migrates the embedded PostgreSQL."
        )
    return configured


def _configure(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
        compare_type=True,
        include_object=comparison_filter(connection.dialect.name),
    )


def _run(connection: sa.Connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # A session lock: it outlives each revision's transaction.
        connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
        citus = connection.execute(
            sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'citus'")
        ).scalar_one()
        if citus:
            connection.execute(sa.text("SET citus.multi_shard_modify_mode TO 'sequential'"))
        connection.commit()
    try:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if postgres:
            if connection.in_transaction():
                connection.rollback()
            connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
            connection.commit()


async def _run_async() -> None:
    engine = migration_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (connection := config.attributes.get("connection")) is not None:
    _run(connection)
else:
    asyncio.run(_run_async())
