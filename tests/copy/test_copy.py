"""``application.copying.Copy`` between real backends: a round trip through every backend
ends where it started; a copy cut short is redone with ``empty_target``; ``verify``
notices a changed row."""

from __future__ import annotations

import itertools
from contextlib import AsyncExitStack
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.sqlalchemy import create_engine
from adapters.sqlalchemy.tables import (
    note_event_heads,
    note_revisions,
    note_usage,
    refresh_tokens,
    shared_notes,
    users,
)
from adapters.sqlalchemy.webhook_tables import webhooks
from application import StorageUnavailable, UnitOfWorkFactory
from application.copying import USERS, Copy
from application.transfer import KINDS
from tests.copy.conftest import OpenDatabase, mysql_server
from tests.copy.dataset import fill, snapshot

EVERY_TABLE = [USERS, *(kind.name for kind in KINDS)]


@pytest.mark.parametrize(
    "route",
    [
        pytest.param(["memory", "sqlite", "postgres", "postgres"], id="memory-sqlite-pg-pg"),
        pytest.param(
            ["memory", "sqlite", "postgres", "mysql", "postgres"], id="memory-sqlite-pg-mysql-pg"
        ),
    ],
)
async def test_a_round_trip_through_every_backend_ends_where_it_started(
    open_database: OpenDatabase, route: list[str]
) -> None:
    if "mysql" in route:
        mysql_server()  # or skip, saying why, before any database is made
    async with AsyncExitStack() as stack:
        sides = [await stack.enter_async_context(open_database(kind)) for kind in route]
        first = sides[0][1]
        await fill(first)
        start = await snapshot(first)
        assert all(start[table] for table in EVERY_TABLE), "the data set has every kind"
        for (_, source), (_, target) in itertools.pairwise(sides):
            # Small pages: every keyset page boundary is crossed.
            copy = Copy(source, target, page_size=2, batch_size=3)
            copied = await copy.copy()
            assert copied == {table: len(start[table]) for table in EVERY_TABLE}
            checks = await copy.verify()
            assert [c.name for c in checks] == EVERY_TABLE
            assert all(check.matches for check in checks), checks
        assert await snapshot(sides[-1][1]) == start


async def test_usage_is_rebuilt_on_the_target_not_copied(open_database: OpenDatabase) -> None:
    async with open_database("memory") as (_, source), open_database("sqlite") as (url, target):
        await fill(source)
        await Copy(source, target).copy()
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                used = (
                    await connection.execute(sa.select(sa.func.sum(note_usage.c.notes)))
                ).scalar_one()
        finally:
            await engine.dispose()
    # 8 notes each for two users, 2 of each in the trash.
    assert used == 12


class _FailingAfter:
    """A target whose units of work stop reaching the database after ``commits`` commits,
    as a database that goes away mid-copy."""

    def __init__(self, factory: UnitOfWorkFactory, commits: int) -> None:
        self._factory = factory
        self.left = commits

    def __call__(self) -> Any:
        outer = self
        inner = self._factory()

        class _Uow:
            async def __aenter__(self) -> Any:
                entered = await inner.__aenter__()
                if outer.left <= 0:
                    await inner.__aexit__(None, None, None)
                    raise StorageUnavailable("the target went away")
                return _Committing(entered)

            async def __aexit__(self, *exc: Any) -> None:
                await inner.__aexit__(*exc)

        class _Committing:
            def __init__(self, uow: Any) -> None:
                self._uow = uow

            def __getattr__(self, name: str) -> Any:
                return getattr(self._uow, name)

            async def commit(self) -> None:
                await self._uow.commit()
                outer.left -= 1

        return _Uow()


async def test_a_copy_cut_short_is_redone_in_full_after_emptying_the_target(
    open_database: OpenDatabase,
) -> None:
    async with open_database("sqlite") as (_, source), open_database("postgres") as (_, target):
        await fill(source)
        start = await snapshot(source)
        failing = _FailingAfter(target, commits=4)
        with pytest.raises(StorageUnavailable):
            await Copy(source, failing, page_size=2, batch_size=2).copy()
        half = await snapshot(target)
        assert 0 < sum(map(len, half.values())) < sum(map(len, start.values()))
        copy = Copy(source, target, page_size=2, batch_size=2)
        assert await copy.target_holds_data()
        assert not all(check.matches for check in await copy.verify())
        assert await copy.empty_target() > 0
        assert not await copy.target_holds_data()
        await copy.copy()
        assert all(check.matches for check in await copy.verify())
        assert await snapshot(target) == start


@pytest.mark.parametrize(
    ("table", "change"),
    [
        (users, {"password_hash": "tampered"}),
        (note_revisions, {"title": "tampered"}),
        (refresh_tokens, {"revoked_at": None}),
        (note_event_heads, {"seq": 999}),
        (webhooks, {"secret_seed": b"tampered"}),
        (shared_notes, {"permission": "write"}),
    ],
    ids=["users", "note_revisions", "refresh_tokens", "event_heads", "webhooks", "shared_notes"],
)
async def test_verify_notices_one_changed_row_in_the_target(
    open_database: OpenDatabase, table: sa.Table, change: dict[str, Any]
) -> None:
    async with open_database("memory") as (_, source), open_database("postgres") as (url, target):
        await fill(source)
        copy = Copy(source, target)
        await copy.copy()
        assert all(check.matches for check in await copy.verify())
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                # One row only, by its whole primary key, that the change changes.
                key = list(table.primary_key.columns)
                # (IS DISTINCT FROM: a NULL differs from a value.)
                some = sa.and_(*(table.c[name].is_distinct_from(v) for name, v in change.items()))
                found = await connection.execute(sa.select(*key).where(some).limit(1))
                one = found.mappings().one()
                condition = sa.and_(*(column == one[column.name] for column in key))
                changed = await connection.execute(table.update().where(condition).values(change))
                assert changed.rowcount == 1
        finally:
            await engine.dispose()
        checks = await copy.verify()
        differing = [check for check in checks if not check.matches]
        assert [check.name for check in differing] == [table.name]
        assert differing[0].source.count == differing[0].target.count
