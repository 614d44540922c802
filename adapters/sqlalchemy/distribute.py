"""Sharding the schema on Citus: shared tables copied to every node, per-user tables spread
by their owner.

Each table says how it is placed (``adapters.sqlalchemy.tables.placement``): a reference
table becomes a Citus reference table; a per-user table is distributed by its owner column,
co-located with the other per-user tables whose owner column has the same type (so a user's
notes, tokens and idempotency keys share a shard). Reference tables come first: the
per-user tables' foreign keys point at them.

Like ``migrate``, ``distribute`` blocks and runs an event loop of its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sqlalchemy.tables import metadata, owner_column, placement

__all__ = ["NotDistributable", "Step", "distribute", "plan"]


class NotDistributable(Exception):
    """The database cannot be distributed (not PostgreSQL, or no ``citus`` extension)."""


@dataclass(frozen=True, slots=True)
class Step:
    """Making one table a reference table, or distributing it by ``column``."""

    table: str
    column: str | None = None
    colocate_with: str | None = None

    @property
    def sql(self) -> sa.TextClause:
        if self.column is None:
            return sa.text("SELECT create_reference_table(:table)").bindparams(table=self.table)
        return sa.text(
            "SELECT create_distributed_table(:table, :column, colocate_with => :group)"
        ).bindparams(table=self.table, column=self.column, group=self.colocate_with or "none")

    def describe(self) -> str:
        if self.column is None:
            return f"{self.table}: reference table"
        group = f", co-located with {self.colocate_with}" if self.colocate_with else ""
        return f"{self.table}: distributed by {self.column}{group}"


def plan(tables: sa.MetaData = metadata) -> list[Step]:
    """The steps that place every table, in the order they must run."""
    references = [Step(t.name) for t in tables.sorted_tables if placement(t) == "reference"]
    anchors: dict[str, str] = {}  # the owner column's type -> the first table distributed by it
    distributed = []
    for table in tables.sorted_tables:
        owner = owner_column(table)
        if owner is None:
            continue
        kind = repr(table.c[owner].type)
        distributed.append(Step(table.name, owner, anchors.get(kind)))
        anchors.setdefault(kind, table.name)
    return references + distributed


async def _distribute(url: str) -> list[str]:
    engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        if engine.dialect.name != "postgresql":
            raise NotDistributable(
                f"distributing needs PostgreSQL with the citus extension, not "
                f"{engine.dialect.name}; nothing was changed"
            )
        async with engine.connect() as connection:
            citus = await connection.scalar(
                sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'citus'")
            )
            if not citus:
                raise NotDistributable(
                    "the database has no citus extension (CREATE EXTENSION citus on the "
                    "coordinator, with its workers added, comes first); nothing was changed"
                )
            placed = set(
                (await connection.execute(sa.text("SELECT table_name::text FROM citus_tables")))
                .scalars()
                .all()
            )
            done = []
            # One transaction per table: Citus refuses more in one after parallel DDL.
            for step in plan():
                if step.table in placed:
                    done.append(f"{step.describe()} (already)")
                    continue
                await connection.execute(step.sql)
                done.append(step.describe())
            return done
    finally:
        await engine.dispose()


def distribute(url: str) -> list[str]:
    """Place every table of the database at ``url`` (see the module docstring); a line per
    table saying how. Tables already placed are left as they are, so running it again is
    harmless. ``NotDistributable`` before changing anything on a database without Citus."""
    return asyncio.run(_distribute(url))
