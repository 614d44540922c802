"""What a database failure's log line says of the driver's error: its class, SQLSTATE and
message, and never a statement's values."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa

from adapters.sqlalchemy import SqlDatabase
from adapters.sqlalchemy.errors import describe
from application import StorageUnavailable

SECRET = "hunter2-the-note-body"


def test_a_server_error_is_named_with_its_sqlstate_and_message() -> None:
    error = asyncpg.exceptions.UndefinedTableError('relation "notes" does not exist')
    assert describe(error) == (
        'asyncpg.exceptions.UndefinedTableError: 42P01: relation "notes" does not exist'
    )


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.InvalidTextRepresentationError(
            f'invalid input syntax for type uuid: "{SECRET}"'
        ),
        asyncpg.exceptions.DataError(f"invalid input for query argument $1: '{SECRET}'"),
    ],
    ids=["server-data-exception", "driver-encoding-error"],
)
def test_an_error_that_quotes_a_value_is_named_without_its_message(error: Exception) -> None:
    described = describe(error)
    assert type(error).__name__ in described
    assert SECRET not in described


async def test_a_failure_under_sqlalchemy_is_described_by_the_drivers_error(
    postgres_database: SqlDatabase,
) -> None:
    with pytest.raises(StorageUnavailable) as raised:
        async with postgres_database.unit_of_work() as uow:
            await uow.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"), write=False)
    assert "asyncpg" in raised.value.reason
