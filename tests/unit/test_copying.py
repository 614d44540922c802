"""The copy use case on the in-memory adapter: everything arrives, a difference shows, a
target is emptied, and a failing target stops the copy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.memory import MemoryDatabase
from application import StorageUnavailable
from application.copying import USERS, Copy
from application.transfer import KINDS
from tests.copy.dataset import fill, snapshot


async def test_everything_is_copied_and_verified() -> None:
    source, target = MemoryDatabase(), MemoryDatabase()
    await fill(source.unit_of_work)
    copy = Copy(source.unit_of_work, target.unit_of_work, page_size=2, batch_size=3)
    assert not await copy.target_holds_data()
    copied = await copy.copy()
    expected = await snapshot(source.unit_of_work)
    assert copied == {name: len(rows) for name, rows in expected.items()}
    assert await snapshot(target.unit_of_work) == expected
    checks = await copy.verify()
    assert [check.name for check in checks] == [USERS, *(kind.name for kind in KINDS)]
    assert all(check.matches for check in checks)
    assert await copy.target_holds_data()


async def test_verify_names_the_table_that_differs() -> None:
    source, target = MemoryDatabase(), MemoryDatabase()
    await fill(source.unit_of_work)
    copy = Copy(source.unit_of_work, target.unit_of_work)
    await copy.copy()
    row, token = next(iter(target.tables["refresh_tokens"].items()))
    target.tables["refresh_tokens"][row] = replace(token, revoked_at=None, used_at=None)
    differing = [check for check in await copy.verify() if not check.matches]
    assert [check.name for check in differing] == ["refresh_tokens"]
    assert differing[0].source.count == differing[0].target.count
    assert differing[0].source.checksum != differing[0].target.checksum


async def test_a_missing_row_shows_in_the_count() -> None:
    source, target = MemoryDatabase(), MemoryDatabase()
    await fill(source.unit_of_work)
    copy = Copy(source.unit_of_work, target.unit_of_work)
    await copy.copy()
    del target.tables["trashed_notes"][next(iter(target.tables["trashed_notes"]))]
    differing = [check for check in await copy.verify() if not check.matches]
    assert [(c.name, c.source.count - c.target.count) for c in differing] == [("trashed_notes", 1)]


async def test_emptying_the_target_leaves_nothing() -> None:
    source, target = MemoryDatabase(), MemoryDatabase()
    await fill(target.unit_of_work)
    copy = Copy(source.unit_of_work, target.unit_of_work, page_size=2)
    assert await copy.empty_target() == 3
    assert not await copy.target_holds_data()
    assert all(not rows for rows in (await snapshot(target.unit_of_work)).values())


@pytest.mark.parametrize("writers", [1, 2])
async def test_a_target_that_fails_stops_the_copy_with_its_error(writers: int) -> None:
    source = MemoryDatabase()
    await fill(source.unit_of_work)

    def failing() -> object:
        raise StorageUnavailable("gone")

    copy = Copy(source.unit_of_work, failing, batch_size=1, writers=writers)  # type: ignore[arg-type]
    with pytest.raises(StorageUnavailable):
        await copy.copy()


def test_page_and_batch_sizes_are_at_least_one() -> None:
    database = MemoryDatabase()
    with pytest.raises(ValueError, match="at least 1"):
        Copy(database.unit_of_work, database.unit_of_work, page_size=0)


async def test_two_writers_copy_everything_in_order() -> None:
    source, target = MemoryDatabase(), MemoryDatabase()
    await fill(source.unit_of_work)
    copy = Copy(source.unit_of_work, target.unit_of_work, page_size=2, batch_size=1, writers=2)
    copied = await copy.copy()
    expected = await snapshot(source.unit_of_work)
    assert copied == {name: len(rows) for name, rows in expected.items()}
    assert await snapshot(target.unit_of_work) == expected
    assert all(check.matches for check in await copy.verify())
