"""Which failures cost a connection: a read-only server (a standby after a failover) costs
every pooled connection to it; a connection error the server reports on a live connection
(as a Citus coordinator does for a dead worker) costs none."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sqlalchemy import SqlDatabase, create_engine
from application import OutcomeUnknown, StorageUnavailable
from tests.databases import migrated, scratch_postgres_database
from tests.support import ALICE, make_note, register_owners


@pytest.fixture
async def scratch_url(postgres_server_url: URL) -> AsyncIterator[str]:
    """A migrated database of the test's own: these tests change its settings and triggers."""
    async with scratch_postgres_database(postgres_server_url) as url:
        await migrated(url)
        yield url


async def _admin(url: str, *statements: str) -> None:
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            for statement in statements:
                await connection.execute(sa.text(statement))
    finally:
        await admin.dispose()


async def _backend_pid(database: SqlDatabase, *, hold: float = 0) -> int:
    """The server process of the connection a unit of work gets (held ``hold`` seconds)."""
    statement = sa.text("SELECT pg_backend_pid() FROM pg_sleep(:hold)")
    async with database.unit_of_work() as uow:
        result = await uow.execute(statement, {"hold": hold}, write=False)
        pid: int = result.scalar_one()
    return pid


async def test_a_read_only_server_is_503_and_its_pooled_connections_are_replaced(
    scratch_url: str, postgres_server_url: URL
) -> None:
    server = postgres_server_url.render_as_string(hide_password=False)
    name = sa.make_url(scratch_url).database
    engine = create_engine(scratch_url, pool_size=3, max_overflow=0)
    database = SqlDatabase(engine)
    try:
        await register_owners(database.unit_of_work)
        # Every pooled connection is made while the server only reads, as a standby does.
        await _admin(server, f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        await engine.dispose()
        pids = await asyncio.gather(*(_backend_pid(database, hold=0.2) for _ in range(3)))
        assert len(set(pids)) == 3
        with pytest.raises(StorageUnavailable) as raised:
            async with database.unit_of_work() as uow:
                await uow.notes.add(make_note("refused"))
                await uow.commit()
        assert not isinstance(raised.value, OutcomeUnknown)
        # The server takes writes again (promoted); the pool's old connections must go.
        await _admin(server, f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        note = make_note("accepted")
        async with database.unit_of_work() as uow:
            await uow.notes.add(note)
            await uow.commit()
        async with database.unit_of_work() as uow:
            assert [n.title.value for n in await uow.notes.list(ALICE, limit=10)] == ["accepted"]
    finally:
        await engine.dispose()


async def test_a_connection_error_reported_on_a_live_connection_is_503_and_keeps_the_pool(
    scratch_url: str,
) -> None:
    await _admin(
        scratch_url,
        """CREATE FUNCTION refuse_worker_down() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.title = 'worker down' THEN
                RAISE EXCEPTION 'connection to the remote node failed'
                    USING ERRCODE = '08006';
            END IF;
            RETURN NEW;
        END $$""",
        """CREATE TRIGGER refuse_worker_down BEFORE INSERT ON notes
        FOR EACH ROW EXECUTE FUNCTION refuse_worker_down()""",
    )
    engine = create_engine(scratch_url, pool_size=1, max_overflow=0)
    database = SqlDatabase(engine)
    try:
        await register_owners(database.unit_of_work)
        before = await _backend_pid(database)
        for first_statement in (True, False):
            with pytest.raises(StorageUnavailable) as raised:
                async with database.unit_of_work() as uow:
                    if not first_statement:
                        await uow.notes.add(make_note("fine"))
                    await uow.notes.add(make_note("worker down"))
                    await uow.commit()
            assert not isinstance(raised.value, OutcomeUnknown)
            assert "08006" in raised.value.reason
        assert await _backend_pid(database) == before
        async with database.unit_of_work() as uow:
            assert await uow.notes.list(ALICE, limit=10) == []
    finally:
        await engine.dispose()
