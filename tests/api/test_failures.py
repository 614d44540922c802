"""How the API answers when persistence fails, when the server fails, and off its routes."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import pytest

from application import Conflict, OutcomeUnknown, StorageUnavailable, UnitOfWorkFactory
from tests.api.client import app_over, assert_problem, serving

USER = UUID("0193f0c2-0000-7000-8000-0000000000aa")
SECRET = "SELECT * FROM notes -- password=hunter2 at db.internal:5432"
NOTE_URL = "/notes/0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e11"
EVERY_ENDPOINT: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/notes/", {"title": "Groceries"}),
    ("GET", "/notes/", None),
    ("GET", NOTE_URL, None),
    ("PUT", NOTE_URL, {"title": "Groceries"}),
    ("PATCH", NOTE_URL, {"title": "Groceries"}),
    ("DELETE", NOTE_URL, None),
    ("GET", f"{NOTE_URL}/revisions", None),
    ("GET", f"{NOTE_URL}/revisions/1", None),
    ("POST", f"{NOTE_URL}/revisions/1/restore", None),
    ("GET", "/trash/", None),
    ("GET", "/trash/0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e11", None),
    ("POST", "/trash/0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e11/restore", None),
    ("DELETE", "/trash/0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e11", None),
]


class _FailingUnitOfWork:
    """A unit of work that cannot begin, as when the database is down."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    async def __aenter__(self) -> Self:
        raise self._error

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


def failing_with(error: Exception) -> UnitOfWorkFactory:
    return lambda: _FailingUnitOfWork(error)  # type: ignore[return-value]


@pytest.mark.parametrize(("method", "url", "body"), EVERY_ENDPOINT)
async def test_unreachable_storage_is_503_with_retry_after_and_no_driver_text(
    method: str, url: str, body: dict[str, Any] | None
) -> None:
    app = app_over(failing_with(StorageUnavailable(f"connection refused: {SECRET}")))
    async with serving(app, as_user=USER) as client:
        response = await client.request(method, url, json=body)
    problem = assert_problem(response, 503)
    assert int(response.headers["retry-after"]) > 0
    assert "hunter2" not in response.text
    assert "db.internal" not in response.text
    assert problem["detail"]


async def test_a_write_of_unknown_outcome_is_its_own_503_saying_to_retry_with_the_key() -> None:
    app = app_over(failing_with(OutcomeUnknown(f"commit lost: {SECRET}")))
    async with serving(app, as_user=USER) as client:
        response = await client.post("/notes/", json={"title": "Groceries"})
    problem = assert_problem(response, 503)
    assert problem["type"].endswith("outcome-unknown")
    assert "Idempotency-Key" in problem["detail"]
    assert "may" in problem["detail"]
    assert int(response.headers["retry-after"]) > 0
    assert "hunter2" not in response.text
    plain = app_over(failing_with(StorageUnavailable("down")))
    async with serving(plain, as_user=USER) as client:
        response = await client.post("/notes/", json={"title": "Groceries"})
    assert assert_problem(response, 503)["type"].endswith("storage-unavailable")


async def test_a_conflicting_write_is_409_with_no_storage_text() -> None:
    app = app_over(failing_with(Conflict(f"duplicate key: {SECRET}")))
    async with serving(app, as_user=USER) as client:
        response = await client.post("/notes/", json={"title": "Groceries"})
    assert_problem(response, 409)
    assert "hunter2" not in response.text


@pytest.mark.parametrize("url", ["/healthz", "/healthz/"])
async def test_healthz_answers_while_the_storage_is_down(url: str) -> None:
    app = app_over(failing_with(StorageUnavailable("down")))
    async with serving(app, as_user=USER) as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(("method", "url", "body"), EVERY_ENDPOINT)
async def test_an_unexpected_error_is_a_bare_500_problem(
    method: str, url: str, body: dict[str, Any] | None
) -> None:
    app = app_over(failing_with(RuntimeError(SECRET)))
    async with serving(app, raise_app_exceptions=False, as_user=USER) as client:
        response = await client.request(method, url, json=body)
    problem = assert_problem(response, 500)
    assert problem["type"] == "about:blank"
    for leak in ("hunter2", "SELECT", "RuntimeError", "Traceback", "db.internal"):
        assert leak not in response.text


async def test_an_unexpected_error_is_logged_once_with_its_traceback_and_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = app_over(failing_with(RuntimeError(SECRET)))
    with caplog.at_level(logging.INFO):
        async with serving(app, as_user=USER) as client:
            response = await client.get("/notes/", headers={"X-Request-ID": "failing-1"})
    assert_problem(response, 500)
    assert response.headers["x-request-id"] == "failing-1"
    [logged] = [record for record in caplog.records if record.exc_info]
    assert logged.levelno == logging.ERROR
    assert logged.exc_info is not None
    assert logged.exc_info[0] is RuntimeError
    assert getattr(logged, "request_id", None) == "failing-1"


async def test_an_unknown_path_is_a_404_problem() -> None:
    async with serving(app_over()) as client:
        for url in ("/", "/nope", "/notes/extra/segments", "/notes//"):
            assert_problem(await client.get(url), 404)


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("DELETE", "/notes/", {"GET", "POST"}),
        ("PUT", "/notes", {"GET", "POST"}),
        ("POST", NOTE_URL, {"GET", "PUT", "PATCH", "DELETE"}),
    ],
)
async def test_a_method_a_path_does_not_take_is_a_405_problem_listing_those_it_does(
    method: str, url: str, allowed: set[str]
) -> None:
    async with serving(app_over()) as client:
        response = await client.request(method, url)
    assert_problem(response, 405)
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


async def test_no_path_redirects() -> None:
    async with serving(app_over()) as client:
        for url in ("/notes", "/notes/", f"{NOTE_URL}/", "/docs/", "/openapi.json/"):
            response = await client.get(url)
            assert not response.is_redirect, url
            assert "location" not in response.headers
