"""``GET /readyz``: 200 when the database answers within the readiness timeout, else a 503
problem; ``GET /healthz`` never asks the database."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from tests.api.client import app_over, assert_problem, serving


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word, like a database host
    that hangs: connecting succeeds, the PostgreSQL handshake never completes."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated database of each backend (synchronous: it sets up async ones)."""
    if request.param == "memory":
        return "memory://"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


async def test_ready_when_the_database_answers(database_url: str) -> None:
    async with serving(app_over(database_url=database_url)) as client:
        for path in ("/readyz", "/readyz/"):
            response = await client.get(path)
            assert response.status_code == 200
            assert response.json() == {"status": "ready"}


async def test_not_ready_when_the_database_refuses_connections() -> None:
    app = app_over(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/notes")
    async with serving(app) as client:
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert_problem(ready, 503)
    assert int(ready.headers["retry-after"]) > 0
    assert alive.status_code == 200


async def test_not_ready_when_the_database_does_not_answer_in_time(
    silent_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_over(
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{silent_port}/notes",
        readiness_timeout=0.2,
        connect_timeout=30,
    )
    with caplog.at_level(logging.INFO, logger="entrypoints"):
        async with serving(app) as client:
            ready = await client.get("/readyz")
    assert_problem(ready, 503)
    [line] = [record for record in caplog.records if record.name == "entrypoints.http.requests"]
    # The readiness timeout gave up, not the 30 s connect timeout.
    assert line.error.startswith("StorageUnavailable <- TimeoutError")  # type: ignore[attr-defined]
