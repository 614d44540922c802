"""The request body limit (413) and cross-origin access (none unless configured)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tests.api.client import PASSWORD, app_over, assert_problem, serving, sign_in

LIMIT = 300
APP_ORIGIN = "https://app.example.com"


def _note_of_size(size: int) -> bytes:
    """A valid note whose JSON body is exactly ``size`` bytes."""
    body = json.dumps({"title": "Sized", "description": ""}).encode()
    return json.dumps({"title": "Sized", "description": "x" * (size - len(body))}).encode()


async def _chunks(body: bytes, size: int = 64) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_over_the_limit_is_413_and_changes_nothing(chunked: bool) -> None:
    json_type = {"Content-Type": "application/json"}
    async with serving(app_over(max_body_size=LIMIT)) as client:
        await sign_in(client)
        fits, too_big = _note_of_size(LIMIT), _note_of_size(LIMIT + 1)
        if chunked:
            accepted = await client.post("/notes/", content=_chunks(fits), headers=json_type)
            refused = await client.post("/notes/", content=_chunks(too_big), headers=json_type)
        else:
            accepted = await client.post("/notes/", content=fits, headers=json_type)
            refused = await client.post("/notes/", content=too_big, headers=json_type)
        assert accepted.status_code == 201, accepted.text
        problem = assert_problem(refused, 413)
        assert f"{LIMIT:,} bytes" in problem["detail"]
        assert refused.headers["x-request-id"]
        assert len((await client.get("/notes/")).json()) == 1


async def test_the_limit_holds_for_form_bodies_and_paths_without_a_route() -> None:
    async with serving(app_over(max_body_size=LIMIT)) as client:
        padded = {"username": "alice", "password": PASSWORD, "padding": "x" * LIMIT}
        assert_problem(await client.post("/auth/token", data=padded), 413)
        assert_problem(await client.put("/nowhere", content=b"x" * (LIMIT + 1)), 413)


async def test_the_default_limit_takes_the_largest_note_there_can_be() -> None:
    # A description of 100,000 characters, each escaped to six bytes in JSON.
    body = json.dumps({"title": "Long", "description": "\x01" * 100_000}).encode()
    assert len(body) > 600_000
    async with serving(app_over()) as client:
        await sign_in(client)
        response = await client.post(
            "/notes/", content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code != 413


async def test_without_configured_origins_no_page_elsewhere_may_call_the_api() -> None:
    async with serving(app_over()) as client:
        await sign_in(client)
        simple = await client.get("/notes/", headers={"Origin": APP_ORIGIN})
        preflight = await client.options(
            "/notes/",
            headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST"},
        )
    assert simple.status_code == 200
    assert not any(name.startswith("access-control-") for name in simple.headers)
    assert not any(name.startswith("access-control-") for name in preflight.headers)
    assert_problem(preflight, 405)


async def test_a_configured_origin_may_call_the_api_and_read_its_headers() -> None:
    async with serving(app_over(cors_origins=[APP_ORIGIN])) as client:
        await sign_in(client)
        preflight = await client.options(
            "/notes/",
            headers={
                "Origin": APP_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
            },
        )
        created = await client.post(
            "/notes/", json={"title": "From the web"}, headers={"Origin": APP_ORIGIN}
        )
        elsewhere = await client.options(
            "/notes/",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        stray = await client.get("/notes/", headers={"Origin": "https://evil.example"})

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == APP_ORIGIN
    exposed = {
        name.strip().lower() for name in created.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "location", "x-request-id"} <= exposed
    problem = assert_problem(elsewhere, 400)
    assert "origin" in problem["detail"]
    assert "access-control-allow-origin" not in stray.headers
