"""Giving the database the quota its triggers enforce (see migration 0004)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.tables import note_quota
from application.quota import Quota

__all__ = ["set_quota"]


async def set_quota(engine: AsyncEngine, quota: Quota) -> None:
    """Make ``quota`` the one every process on this database enforces from now on."""
    values = {"max_notes": quota.max_notes, "max_bytes": quota.max_bytes}
    statement: sa.Insert
    if engine.dialect.name == "mysql":
        statement = mysql.insert(note_quota).values(id=1, **values).on_duplicate_key_update(values)
    else:
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        statement = (
            insert(note_quota)
            .values(id=1, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )
    with translated():
        async with engine.begin() as connection:
            current = (
                await connection.execute(sa.select(note_quota.c.max_notes, note_quota.c.max_bytes))
            ).first()
            if current is None or tuple(current) != (quota.max_notes, quota.max_bytes):
                await connection.execute(statement)
