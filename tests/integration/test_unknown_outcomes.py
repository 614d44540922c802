"""A write whose connection is lost after it was sent, before its answer came: its outcome
is unknown, and the unit of work says so (``OutcomeUnknown``) rather than "no effect"."""

from __future__ import annotations

import pytest

from adapters.sqlalchemy import SqlDatabase, create_engine
from application import OutcomeUnknown
from tests.integration.tcp_proxy import proxied
from tests.support import ALICE, make_note, register_owners


@pytest.fixture
async def postgres_database(postgres_database: SqlDatabase) -> SqlDatabase:
    await register_owners(postgres_database.unit_of_work)
    return postgres_database


async def test_a_lone_insert_cut_off_after_it_was_sent_is_an_unknown_outcome(
    postgres_database: SqlDatabase, postgres_url: str
) -> None:
    note = make_note("cut after this one")
    async with proxied(postgres_url) as proxy:
        engine = create_engine(proxy.url, pool_size=1, max_overflow=0)
        try:
            database = SqlDatabase(engine)
            proxy.cut_after = b"cut after this one"
            with pytest.raises(OutcomeUnknown):
                async with database.unit_of_work() as uow:
                    await uow.notes.add(note)
                    await uow.commit()
        finally:
            await engine.dispose()
    # Here the write did happen: "no effect" would have been a lie.
    async with postgres_database.unit_of_work() as uow:
        assert await uow.notes.get(ALICE, note.id) == note


async def test_a_commit_cut_off_after_it_was_sent_is_an_unknown_outcome(
    postgres_database: SqlDatabase, postgres_url: str
) -> None:
    notes = [make_note("first"), make_note("second")]
    async with proxied(postgres_url) as proxy:
        engine = create_engine(proxy.url, pool_size=1, max_overflow=0)
        try:
            database = SqlDatabase(engine)
            with pytest.raises(OutcomeUnknown):
                async with database.unit_of_work() as uow:
                    for note in notes:
                        await uow.notes.add(note)
                    proxy.cut_after = b"COMMIT"
                    await uow.commit()
        finally:
            await engine.dispose()
    async with postgres_database.unit_of_work() as uow:
        assert {n.id for n in await uow.notes.list(ALICE, limit=10)} == {n.id for n in notes}
