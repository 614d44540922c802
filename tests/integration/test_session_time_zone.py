"""Dates come back in UTC whatever the time zone of the database session, whether the driver
returns them directly or through SQLAlchemy's column types."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import sqlalchemy as sa

from adapters.sqlalchemy import SqlDatabase, create_engine
from application import NoteFilter, Position
from domain import Note
from tests.support import ALICE, START, make_note, register_owners


def _utc(note: Note) -> bool:
    return note.created_date.tzinfo is UTC and note.updated_date.tzinfo is UTC


async def test_dates_are_utc_in_a_session_with_another_time_zone(
    postgres_database: SqlDatabase, postgres_url: str
) -> None:
    """``postgres_database``: the shared database, emptied."""
    engine = create_engine(postgres_url)

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _elsewhere(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.run_async(lambda driver: driver.execute("SET TIME ZONE 'Asia/Kathmandu'"))

    try:
        database = SqlDatabase(engine)
        await register_owners(database.unit_of_work)
        note = make_note(created=START + timedelta(microseconds=250))
        note = note.edited(now=START + timedelta(hours=1))
        async with database.unit_of_work() as uow:
            await uow.notes.add(note)
            await uow.commit()
        after = Position(moment=START + timedelta(days=1), id=ALICE)
        async with database.unit_of_work() as uow:
            zone = await uow.execute(sa.text("SHOW TimeZone"), write=False)
            assert zone.scalar() == "Asia/Kathmandu"
            # Not the first statement: through SQLAlchemy and its column types.
            loaded = [
                await uow.notes.get(ALICE, note.id),
                *(
                    r.note
                    for r in await uow.notes.find(ALICE, NoteFilter(), "created_desc", limit=1)
                ),
            ]
        async with database.unit_of_work() as uow:  # straight from the driver
            loaded.append(await uow.notes.get(ALICE, note.id))
        async with database.unit_of_work() as uow:
            found = await uow.notes.find(ALICE, NoteFilter(), "created_desc", limit=1, after=after)
            loaded.append(found[0].note)
    finally:
        await engine.dispose()
    for copy in loaded:
        assert copy is not None
        assert _utc(copy), copy
        assert (copy.created_date, copy.updated_date) == (note.created_date, note.updated_date)
