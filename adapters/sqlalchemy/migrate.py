"""Schema migrations, applied with Alembic from the revisions in the ``migrations`` package.

These functions block and run an event loop of their own (Alembic drives the async engine);
from async code, call them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from adapters.sqlalchemy.engine import migration_engine

__all__ = ["History", "alembic_config", "current", "downgrade", "head", "history", "upgrade"]


def _script_location() -> Path:
    spec = importlib.util.find_spec("migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the migrations package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the service's revisions against ``url``."""
    config = Config()
    config.set_main_option("script_location", str(_script_location()))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every revision up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Revert to ``revision`` (``base`` for an empty database)."""
    command.downgrade(alembic_config(url), revision)


def head() -> str | None:
    """The newest revision the service knows."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current(url: str) -> str | None:
    """The revision the database is at, or ``None`` for a database never migrated."""

    async def read() -> str | None:
        engine = migration_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_revision()
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())


@dataclass(frozen=True, slots=True)
class History:
    """The service's migrations: the newest revision, and every one it knows."""

    head: str | None
    known: frozenset[str]

    def is_behind(self, revision: str | None) -> bool:
        """Whether a database at ``revision`` (``None``: never migrated) needs an upgrade
        for this service: it is at none, or at one of the service's older revisions. A
        revision the service does not know is newer than it: not behind."""
        if revision == self.head:
            return False
        return revision is None or revision in self.known


def history() -> History:
    """The service's migrations (read from the ``migrations`` package)."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known = frozenset(script.revision for script in scripts.walk_revisions())
    return History(scripts.get_current_head(), known)
