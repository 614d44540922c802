"""Inputs at the edge of what the API documents: taken up to the documented maximum on
every backend, refused with a 4xx problem beyond it, never a 5xx."""

from __future__ import annotations

import httpx

from entrypoints.http.etags import MAX_IF_MATCH_LENGTH
from entrypoints.http.notes import MAX_SKIP
from tests.api.client import assert_problem
from tests.api.conftest import anonymous, client, shared_app, uow_factory

__all__ = ["anonymous", "client", "shared_app", "uow_factory"]  # the fixtures used here


async def test_skip_is_taken_up_to_its_documented_maximum(client: httpx.AsyncClient) -> None:
    assert (await client.post("/notes/", json={"title": "one"})).status_code == 201
    document = (await client.get("/openapi.json")).json()
    parameters = document["paths"]["/notes/"]["get"]["parameters"]
    (skip,) = (parameter for parameter in parameters if parameter["name"] == "skip")
    assert skip["schema"]["maximum"] == MAX_SKIP

    for query in ({"skip": MAX_SKIP}, {"skip": MAX_SKIP, "q": "one"}, {"skip": MAX_SKIP - 1}):
        answer = await client.get("/notes/", params=query)
        assert answer.status_code == 200, answer.text
        assert answer.json() == []
    assert_problem(await client.get("/notes/", params={"skip": MAX_SKIP + 1}), 422)
    assert_problem(await client.get("/notes/", params={"skip": 2**63}), 422)


async def test_an_if_match_too_long_to_be_a_version_is_400(client: httpx.AsyncClient) -> None:
    created = await client.post("/notes/", json={"title": "one"})
    url = f"/notes/{created.json()['id']}"
    for header in (f'"{2**63}"', '"' + "9" * 40 + '"', '"1", ' * MAX_IF_MATCH_LENGTH):
        for method, body in (("PATCH", {"title": "x"}), ("PUT", {"title": "x"}), ("DELETE", None)):
            answer = await client.request(method, url, json=body, headers={"If-Match": header})
            assert_problem(answer, 400)
    assert (await client.get(url)).json()["version"] == 1
