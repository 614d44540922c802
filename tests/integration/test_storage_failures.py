"""What the SQL adapter does when the database fails under it: the core sees only
``StorageUnavailable``, nothing partial is ever written, and the pool recovers by itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.sqlalchemy import SqlDatabase, create_engine
from application import StorageUnavailable
from tests.integration.tcp_proxy import Proxy, proxied
from tests.support import ALICE, make_note, register_owners


@pytest.fixture
async def postgres_database(postgres_database: SqlDatabase) -> SqlDatabase:
    """The shared fixture, with the owners of ``make_note``'s notes registered."""
    await register_owners(postgres_database.unit_of_work)
    return postgres_database


async def _terminate_idle_transactions(url: str) -> int:
    """Kill, from outside, every connection to the database that sits inside a transaction."""
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            killed = await connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND state LIKE 'idle in transaction%'"
                )
            )
            return len(killed.all())
    finally:
        await admin.dispose()


async def test_a_connection_killed_mid_transaction_writes_nothing(
    postgres_database: SqlDatabase, postgres_url: str
) -> None:
    written = [make_note(f"n{i}") for i in range(3)]
    with pytest.raises(StorageUnavailable):
        async with postgres_database.unit_of_work() as uow:
            for note in written:
                await uow.notes.add(note)
            assert await _terminate_idle_transactions(postgres_url) == 1
            await uow.notes.add(make_note("after the kill"))
            await uow.commit()

    async with postgres_database.unit_of_work() as uow:
        assert await uow.notes.list(ALICE, limit=10) == []


async def test_a_commit_on_a_killed_connection_fails_and_writes_nothing(
    postgres_database: SqlDatabase, postgres_url: str
) -> None:
    with pytest.raises(StorageUnavailable):
        async with postgres_database.unit_of_work() as uow:
            # Two writes: the first one is sent, in a transaction, when the second one comes.
            await uow.notes.add(make_note("first"))
            await uow.notes.add(make_note("second"))
            assert await _terminate_idle_transactions(postgres_url) == 1
            await uow.commit()
    async with postgres_database.unit_of_work() as uow:
        assert await uow.notes.list(ALICE, limit=10) == []


@asynccontextmanager
async def _through_proxy(
    postgres_url: str, **engine_options: Any
) -> AsyncIterator[tuple[Proxy, SqlDatabase]]:
    """A proxy in front of the test database, and the database reached through it."""
    async with proxied(postgres_url) as proxy:
        engine = create_engine(proxy.url, **engine_options)
        try:
            yield proxy, SqlDatabase(engine)
        finally:
            await engine.dispose()


async def test_a_lone_add_is_sent_at_commit_on_a_new_connection_when_its_own_was_dropped(
    postgres_database: SqlDatabase, postgres_url: str
) -> None:
    """A lone add is held back until ``commit()``, so a pooled connection dropped meanwhile
    costs nothing: nothing was sent on it, and the write goes out once on a new one."""
    note = make_note()
    async with _through_proxy(postgres_url) as (proxy, database), database.unit_of_work() as uow:
        await uow.notes.add(note)
        await proxy.drop_connections()
        await uow.commit()
    async with postgres_database.unit_of_work() as uow:
        assert await uow.notes.get(ALICE, note.id) == note


async def test_a_lone_add_whose_database_became_unreachable_fails_at_commit(
    postgres_database: SqlDatabase, postgres_url: str
) -> None:
    note = make_note()
    async with _through_proxy(postgres_url, connect_timeout=1.0) as (proxy, database):
        with pytest.raises(StorageUnavailable):
            async with database.unit_of_work() as uow:
                await uow.notes.add(note)
                await proxy.close()
                await uow.commit()
    async with postgres_database.unit_of_work() as uow:
        assert await uow.notes.list(ALICE, limit=10) == []


async def test_a_lone_add_left_without_commit_sends_nothing(
    postgres_database: SqlDatabase, postgres_url: str
) -> None:
    """Not even a ``BEGIN``: not a byte goes to the server for the unit of work."""
    async with _through_proxy(postgres_url, pool_size=1, max_overflow=0) as (proxy, database):
        async with database.unit_of_work() as uow:  # connects, and warms the pool up
            await uow.notes.list(ALICE, limit=1)
        sent = proxy.bytes_to_server
        async with database.unit_of_work() as uow:
            await uow.notes.add(make_note())
        with pytest.raises(RuntimeError):
            async with database.unit_of_work() as uow:
                await uow.notes.add(make_note())
                raise RuntimeError("the use case failed after adding")
        assert proxy.bytes_to_server == sent
    async with postgres_database.unit_of_work() as uow:
        assert await uow.notes.list(ALICE, limit=10) == []


async def _terminate_other_connections(url: str) -> None:
    """Kill the database's other connections while they sit idle in the pool: wait until
    their server processes are gone, then let the event loop read their farewell. (A
    connection that dies while a write is on its way is an unknown outcome, tested apart.)"""
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await admin.dispose()
    await asyncio.sleep(0.2)


async def test_the_pool_replaces_killed_connections(
    postgres_engine: AsyncEngine, postgres_url: str
) -> None:
    database = SqlDatabase(postgres_engine)
    async with database.unit_of_work() as uow:
        await uow.notes.list(ALICE, limit=1)
    await _terminate_other_connections(postgres_url)
    note = make_note()
    async with database.unit_of_work() as uow:
        await uow.notes.add(note)
        await uow.commit()
    async with database.unit_of_work() as uow:
        assert await uow.notes.get(ALICE, note.id) == note


@pytest.mark.parametrize("first_read", ["get", "list"])
async def test_a_first_read_on_a_killed_connection_runs_again_on_a_new_one(
    postgres_database: SqlDatabase, postgres_url: str, first_read: str
) -> None:
    """Without a ping before each checkout, the first statement of a unit of work (here a
    read, which runs before BEGIN) is what finds the pooled connection dead."""
    database = postgres_database
    note = make_note()
    async with database.unit_of_work() as uow:
        await uow.notes.add(note)
        await uow.commit()
    await _terminate_other_connections(postgres_url)
    async with database.unit_of_work() as uow:
        if first_read == "get":
            assert await uow.notes.get(ALICE, note.id) == note
        else:
            assert await uow.notes.list(ALICE, limit=10) == [note]
        # The unit of work goes on in a transaction on the new connection.
        assert await uow.notes.get(ALICE, note.id, for_update=True) == note


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres@127.0.0.1:1/notes",
        "postgresql+asyncpg://postgres@/notes?host=/nonexistent-socket-dir",
    ],
    ids=["refused-port", "missing-socket"],
)
async def test_an_unreachable_postgres_is_storage_unavailable(url: str) -> None:
    engine = create_engine(url, connect_timeout=1.0, pool_timeout=1.0)
    try:
        # The bound only catches a hang; how fast the failure comes is measured in bench/.
        async with asyncio.timeout(30):
            with pytest.raises(StorageUnavailable):
                async with SqlDatabase(engine).unit_of_work() as uow:
                    await uow.notes.list(ALICE, limit=1)
    finally:
        await engine.dispose()


async def test_an_unopenable_sqlite_file_is_storage_unavailable(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'dir' / 'notes.db'}")
    try:
        with pytest.raises(StorageUnavailable):
            async with SqlDatabase(engine).unit_of_work() as uow:
                await uow.notes.list(ALICE, limit=1)
    finally:
        await engine.dispose()


async def test_a_statement_that_waits_too_long_is_storage_unavailable(
    postgres_database: SqlDatabase, postgres_url: str
) -> None:
    """A database that stops answering (here: a row another transaction holds) fails the
    request after the statement timeout instead of holding it."""
    note = make_note()
    async with postgres_database.unit_of_work() as uow:
        await uow.notes.add(note)
        await uow.commit()
    impatient = create_engine(postgres_url, statement_timeout=0.3)
    try:
        async with postgres_database.unit_of_work() as holder:
            assert await holder.notes.get(ALICE, note.id, for_update=True) is not None
            async with asyncio.timeout(30):
                with pytest.raises(StorageUnavailable):
                    async with SqlDatabase(impatient).unit_of_work() as uow:
                        await uow.notes.get(ALICE, note.id, for_update=True)
    finally:
        await impatient.dispose()
