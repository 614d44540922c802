"""Every response carries ``X-Request-ID``: the client's when it is sane, a new one otherwise;
problems included. Every response says ``X-Content-Type-Options: nosniff``."""

from __future__ import annotations

import re

import httpx
import pytest

from application import StorageUnavailable
from tests.api.client import app_over, serving, sign_in
from tests.api.test_failures import USER, failing_with

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "sent", ["abc", "0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e11", "trace.span_1-2", "x" * 128]
)
async def test_a_sane_request_id_is_echoed(sent: str) -> None:
    async with serving(app_over()) as client:
        response = await client.get("/healthz", headers={"X-Request-ID": sent})
    assert response.headers["x-request-id"] == sent


@pytest.mark.parametrize(
    "sent",
    ["", "x" * 129, "has space", "semi;colon", "quote'", "<script>", "ünïcode", "a/b", "%0A"],
)
async def test_any_other_request_id_is_replaced(sent: str) -> None:
    async with serving(app_over()) as client:
        response = await client.get("/healthz", headers={"X-Request-ID": sent.encode()})
    assert GENERATED.fullmatch(response.headers["x-request-id"])


async def test_without_one_each_request_gets_its_own() -> None:
    async with serving(app_over()) as client:
        ids = {(await client.get("/healthz")).headers["x-request-id"] for _ in range(50)}
    assert len(ids) == 50
    assert all(GENERATED.fullmatch(request_id) for request_id in ids)


async def _every_kind_of_answer(client: httpx.AsyncClient) -> list[httpx.Response]:
    created = await client.post("/notes/", json={"title": "Groceries"})
    url = created.headers["location"]
    return [
        created,  # 201
        await client.get(url),  # 200
        await client.get(url, headers={"If-None-Match": created.headers["etag"]}),  # 304
        await client.delete(url, headers={"If-Match": '"7"'}),  # 412
        await client.get("/notes/0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e11"),  # 404
        await client.get("/nowhere"),  # 404, no route
        await client.post("/notes/", json={"title": ""}),  # 422
        await client.post("/notes/", content=b"{", headers={"Content-Type": "application/json"}),
        await client.delete("/notes/"),  # 405
        await client.get("/notes/", headers={"Authorization": "Bearer nonsense"}),  # 401
        await client.post("/notes/", content=b"x" * 2_000_000),  # 413
        await client.get("/metrics"),
    ]


async def test_every_answer_has_an_id_and_nosniff() -> None:
    async with serving(app_over()) as client:
        await sign_in(client)
        answers = await _every_kind_of_answer(client)
    assert {answer.status_code for answer in answers} == {
        200,
        201,
        304,
        400,
        401,
        404,
        405,
        412,
        413,
        422,
    }
    for answer in answers:
        assert GENERATED.fullmatch(answer.headers["x-request-id"]), answer.request.url
        assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("error", "status"), [(StorageUnavailable("down"), 503), (RuntimeError("bug"), 500)]
)
async def test_failures_carry_the_id_the_client_sent(error: Exception, status: int) -> None:
    app = app_over(failing_with(error))
    async with serving(app, as_user=USER) as client:
        response = await client.get("/notes/", headers={"X-Request-ID": "client-7"})
    assert response.status_code == status
    assert response.headers["x-request-id"] == "client-7"
    assert response.headers["x-content-type-options"] == "nosniff"
