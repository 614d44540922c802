"""Text that is not valid Unicode (a lone surrogate, as JSON's "\\ud800" decodes to) is a
4xx wherever text comes in, changes nothing, and none of it reaches the log; a value the
database refuses (SQLSTATE class 22) is a 4xx too, and its text stays out of the log."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from adapters.sqlalchemy import create_engine
from adapters.sqlalchemy.errors import translated
from application import InvalidData, UnitOfWorkFactory
from tests.api.client import PASSWORD, assert_problem
from tests.backends import open_backend
from tests.support import ALICE, register_owners

MARK = "TOPSECRET-7f3a"
LONE = MARK + "\ud800"


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):
        yield caplog


def _assert_unlogged(logged: pytest.LogCaptureFixture) -> None:
    for record in logged.records:
        if record.name.startswith(("httpx", "httpcore")):
            continue
        text = record.getMessage() + "".join(
            traceback.format_exception(*record.exc_info) if record.exc_info else ()
        )
        assert MARK not in text, record.name


async def _send(client: httpx.AsyncClient, method: str, url: str, body: Any) -> httpx.Response:
    """``body`` as JSON with every non-ASCII character escaped, so that a lone surrogate
    travels as ``\ud800``, as any JSON encoder may send it."""
    content = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    return await client.request(method, url, content=content, headers=headers)


def _note(**fields: Any) -> dict[str, Any]:
    return {"title": "kept", "description": "as it was", "tags": ["home"], **fields}


@pytest.mark.parametrize("field", ["title", "description"])
async def test_a_lone_surrogate_in_note_text_is_422_everywhere_and_changes_nothing(
    client: httpx.AsyncClient, logged: pytest.LogCaptureFixture, field: str
) -> None:
    kept = (await client.post("/notes/", json=_note())).json()
    path = f"/notes/{kept['id']}"
    for method, url, body in [
        ("POST", "/notes/", _note(**{field: LONE})),
        ("PUT", path, _note(**{field: LONE})),
        ("PATCH", path, {field: LONE}),
        ("POST", "/notes/import", [_note(), _note(**{field: LONE})]),
    ]:
        answer = await _send(client, method, url, body)
        assert_problem(answer, 422)
        assert MARK not in answer.text
    listed = (await client.get("/notes/")).json()
    assert listed == [kept]
    _assert_unlogged(logged)


async def test_a_lone_surrogate_in_a_registration_password_is_422(
    anonymous: httpx.AsyncClient, logged: pytest.LogCaptureFixture
) -> None:
    refused = await _send(anonymous, "POST", "/users/", {"username": "alice", "password": LONE})
    assert_problem(refused, 422)
    created = await anonymous.post("/users/", json={"username": "alice", "password": PASSWORD})
    assert created.status_code == 201, "the refused registration left the username taken"
    _assert_unlogged(logged)


@pytest.mark.parametrize("path", ["/auth/refresh", "/auth/logout"])
async def test_a_lone_surrogate_as_a_refresh_token_is_422(
    client: httpx.AsyncClient, logged: pytest.LogCaptureFixture, path: str
) -> None:
    answer = await _send(client, "POST", path, {"refresh_token": LONE})
    assert_problem(answer, 422)
    assert (await client.get("/users/me")).status_code == 200
    _assert_unlogged(logged)


@pytest.fixture
def postgres(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    return open_backend(request, "postgres")


async def test_a_value_out_of_the_drivers_range_is_invalid_data_not_a_crash(
    postgres: UnitOfWorkFactory,
) -> None:
    await register_owners(postgres)
    async with postgres() as uow:
        with pytest.raises(InvalidData) as raised:
            await uow.notes.list(ALICE, limit=1, skip=2**63)
    assert "9223372036854775808" not in "".join(traceback.format_exception(raised.value))


async def test_a_value_postgresql_refuses_is_invalid_data_without_its_text(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as connection:
            with pytest.raises(InvalidData) as raised, translated():
                await connection.execute(sa.text("SELECT CAST(:v AS integer)"), {"v": MARK})
    finally:
        await engine.dispose()
    assert MARK not in "".join(traceback.format_exception(raised.value))
