"""One structured log record per request, with what an operator needs and nothing a user
would not want written down: no password, token or note content, in either format."""

from __future__ import annotations

import io
import json
import logging
import sys
import traceback
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from adapters.sqlalchemy import create_engine
from application import StorageUnavailable
from entrypoints.logs import JsonFormatter, RequestIdFilter, TextFormatter, server_log_config
from tests.api.client import PASSWORD, app_over, serving, sign_in
from tests.api.test_failures import USER, failing_with

REQUESTS = "entrypoints.http.requests"


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record, of every level."""
    with caplog.at_level(logging.DEBUG):
        yield caplog


def _lines(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [record for record in records if record.name == REQUESTS]


async def test_each_request_gets_one_record_naming_its_route_template_and_user(
    logged: pytest.LogCaptureFixture,
) -> None:
    async with serving(app_over()) as client:
        user_id = await sign_in(client)
        logged.clear()
        created = await client.post("/notes/", json={"title": "Groceries"})
        note_id = created.json()["id"]
        read = await client.get(f"/notes/{note_id}/", headers={"X-Request-ID": "read-1"})
        listed = await client.get("/notes")
        missing = await client.get("/nowhere")
        client.headers.pop("Authorization")
        anonymous = await client.get("/notes/")

    lines = _lines(logged.records)
    assert [(line.method, line.route, line.status) for line in lines] == [  # type: ignore[attr-defined]
        ("POST", "/notes/", 201),
        ("GET", "/notes/{note_id}", 200),
        ("GET", "/notes/", 200),
        ("GET", "<unmatched>", 404),
        ("GET", "/notes/", 401),
    ]
    responses = [created, read, listed, missing, anonymous]
    for line, response in zip(lines, responses, strict=True):
        assert line.request_id == response.headers["x-request-id"]  # type: ignore[attr-defined]
        assert line.duration_ms >= 0  # type: ignore[attr-defined]
        assert line.levelno == logging.INFO
        assert note_id not in line.getMessage()
    assert lines[1].request_id == "read-1"  # type: ignore[attr-defined]
    assert [getattr(line, "user_id", None) for line in lines] == [str(user_id)] * 3 + [None] * 2


async def test_without_the_access_log_only_failures_are_logged(
    logged: pytest.LogCaptureFixture,
) -> None:
    async with serving(app_over(access_log=False)) as client:
        await sign_in(client)
        created = await client.post("/notes/", json={"title": "Groceries"})
        await client.get(f"/notes/{created.json()['id']}")
        await client.get("/nowhere")
    assert _lines(logged.records) == []
    async with serving(
        app_over(failing_with(StorageUnavailable("down")), access_log=False), as_user=USER
    ) as client:
        assert (await client.get("/notes/")).status_code == 503
    assert [(line.levelno, line.status) for line in _lines(logged.records)] == [  # type: ignore[attr-defined]
        (logging.WARNING, 503)
    ]


async def _line_of_a_failing_request(
    error: Exception, logged: pytest.LogCaptureFixture, status: int
) -> logging.LogRecord:
    """The one request record of ``GET /notes/`` when storage fails with ``error``."""
    async with serving(app_over(failing_with(error)), as_user=USER) as client:
        assert (await client.get("/notes/")).status_code == status
    [line] = _lines(logged.records)
    assert line.user_id == str(USER)  # type: ignore[attr-defined]
    return line


async def test_a_storage_failure_is_one_warning_that_names_the_failure_not_its_text(
    logged: pytest.LogCaptureFixture,
) -> None:
    failure = StorageUnavailable("connect to db.internal:5432 as hunter2")
    line = await _line_of_a_failing_request(failure, logged, 503)
    assert line.levelno == logging.WARNING
    assert line.error == "StorageUnavailable"  # type: ignore[attr-defined]
    assert not any("hunter2" in record.getMessage() for record in logged.records)


async def test_an_unexpected_error_is_the_request_record_itself_with_the_traceback(
    logged: pytest.LogCaptureFixture,
) -> None:
    line = await _line_of_a_failing_request(RuntimeError("a bug"), logged, 500)
    assert (line.levelno, line.status) == (logging.ERROR, 500)  # type: ignore[attr-defined]
    assert line.exc_info is not None
    assert [record for record in logged.records if record.exc_info] == [line]


def _formatted(records: list[logging.LogRecord], formatter: logging.Formatter) -> str:
    return "\n".join(formatter.format(record) for record in records)


async def test_no_password_token_or_note_content_reaches_any_log_in_either_format(
    logged: pytest.LogCaptureFixture,
) -> None:
    title, description = "Secret title 7f3a", "the combination is 1234-9876"
    async with serving(app_over()) as client:
        await client.post("/users/", json={"username": "alice", "password": PASSWORD})
        session = (
            await client.post("/auth/token", data={"username": "alice", "password": PASSWORD})
        ).json()
        await client.post("/auth/token", data={"username": "alice", "password": "wrong guess!"})
        client.headers["Authorization"] = f"Bearer {session['access_token']}"
        created = await client.post(
            "/notes/", json={"title": title, "description": description, "tags": ["private"]}
        )
        await client.get(f"/notes/{created.json()['id']}")
        await client.get("/notes/", params={"q": "combination"})
        await client.patch(f"/notes/{created.json()['id']}", json={"description": description})
        await client.post("/notes/", json={"title": title, "tags": ["Not A Tag!"]})
        refreshed = await client.post(
            "/auth/refresh", json={"refresh_token": session["refresh_token"]}
        )
        await client.post("/auth/logout", json={"refresh_token": refreshed.json()["refresh_token"]})

    assert len(_lines(logged.records)) == 10
    secrets = [
        PASSWORD,
        "wrong guess!",
        session["access_token"],
        session["refresh_token"],
        refreshed.json()["refresh_token"],
        title,
        description,
        "combination",
        "private",
    ]
    # Everything but the test's own HTTP client, which logs the URLs it asks for.
    service = [r for r in logged.records if not r.name.startswith(("httpx", "httpcore"))]
    for formatter in (TextFormatter(), JsonFormatter()):
        written = _formatted(service, formatter)
        for secret in secrets:
            assert secret not in written, (type(formatter).__name__, secret)


def test_the_json_format_is_one_object_per_line_with_the_fields() -> None:
    record = logging.LogRecord(REQUESTS, logging.ERROR, __file__, 1, "GET %s", ("/x",), None)
    record.request_id, record.route, record.status = "r-1", "/x", 500
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "GET /x"
    assert (parsed["level"], parsed["request_id"], parsed["status"]) == ("error", "r-1", 500)
    assert "ValueError: boom" in parsed["traceback"]
    assert parsed["time"].endswith("+00:00")


def test_the_text_format_puts_the_fields_after_the_message() -> None:
    record = logging.LogRecord(REQUESTS, logging.INFO, __file__, 1, "GET /x 200", (), None)
    record.request_id, record.user_id, record.duration_ms = "r-1", str(USER), 1.5
    line = TextFormatter().format(record)
    assert line.endswith(f"GET /x 200 request_id=r-1 duration_ms=1.5 user_id={USER}")


async def test_records_made_while_a_request_is_handled_carry_its_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("entrypoints")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        async with serving(app_over()) as client:
            await client.get("/healthz", headers={"X-Request-ID": "tagged-1"})
        logging.getLogger("entrypoints.somewhere").info("outside any request")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line.get("request_id") for line in lines] == ["tagged-1", None]


def test_the_server_configuration_logs_requests_itself_and_not_through_uvicorn() -> None:
    config = server_log_config("info", "json")
    assert config["handlers"]["default"]["formatter"] == "json"
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
    for name in ("entrypoints", "adapters", "uvicorn.error"):
        assert config["loggers"][name]["level"] == "INFO"


async def test_a_database_error_does_not_quote_the_statements_parameters() -> None:
    engine = create_engine("sqlite+aiosqlite://")
    try:
        async with engine.connect() as connection:
            with pytest.raises(sa.exc.DBAPIError) as raised:
                await connection.execute(
                    sa.text("INSERT INTO missing_table VALUES (:secret)"),
                    {"secret": "the combination is 1234-9876"},
                )
    finally:
        await engine.dispose()
    assert "1234-9876" not in str(raised.value)
    assert "1234-9876" not in "".join(traceback.format_exception(raised.value))
