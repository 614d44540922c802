"""Garbage sent to every endpoint gets a 4xx problem and changes nothing, on every backend.

Each case is one request; the stored notes are listed before and after it, and must match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from domain import MAX_TAGS
from tests.api.client import assert_problem

JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Garbage:
    """A request body (or a part of one) and the status it must get."""

    status: int
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def request(self) -> dict[str, Any]:
        if self.content is not None:
            return {"content": self.content, "headers": self.headers}
        return {"json": self.json, "headers": self.headers}


NOT_JSON = {
    "not JSON at all": Garbage(400, content=b"title=Groceries", headers=JSON),
    "truncated JSON": Garbage(400, content=b'{"title": "Groceries"', headers=JSON),
    "single quotes": Garbage(400, content=b"{'title': 'Groceries'}", headers=JSON),
    "invalid UTF-8": Garbage(400, content=b'{"title": "\xff\xfe"}', headers=JSON),
    "nested 100,000 deep": Garbage(400, content=b"[" * 100_000, headers=JSON),
    "empty body": Garbage(400, content=b"", headers=JSON),
    "JSON sent as text/plain": Garbage(
        400, content=b'{"title": "Groceries"}', headers={"content-type": "text/plain"}
    ),
    "JSON sent as a form": Garbage(
        400,
        content=b'{"title": "Groceries"}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    ),
}

WRONG_SHAPE = {
    "a JSON array": Garbage(422, json=[{"title": "Groceries"}]),
    "a JSON string": Garbage(422, json="Groceries"),
    "JSON null": Garbage(422, content=b"null", headers=JSON),
    "a number for title": Garbage(422, json={"title": 42}),
    "a boolean for title": Garbage(422, json={"title": True}),
    "a list for title": Garbage(422, json={"title": ["Groceries"]}),
    "an object for description": Garbage(422, json={"title": "x", "description": {"a": 1}}),
    "a number for description": Garbage(422, json={"title": "x", "description": 1.5}),
    "a string for tags": Garbage(422, json={"title": "x", "tags": "home"}),
    "a number among tags": Garbage(422, json={"title": "x", "tags": ["home", 7]}),
    "null among tags": Garbage(422, json={"title": "x", "tags": [None]}),
    "an unknown field": Garbage(422, json={"title": "x", "text": "tutorial v0"}),
    "an unknown field only": Garbage(422, json={"completed": True}),
    "a 1 MB unknown field": Garbage(422, json={"title": "x", "k" * 1_000_000: 1}),
    "a 1 MB title": Garbage(422, json={"title": "x" * 1_000_000}),
    "a blank title": Garbage(422, json={"title": " \t\n "}),
    "a description over 100,000": Garbage(422, json={"title": "x", "description": "y" * 100_001}),
    "a 51-character tag": Garbage(422, json={"title": "x", "tags": ["t" * 51]}),
    "a tag with a space": Garbage(422, json={"title": "x", "tags": ["two words"]}),
    "an empty tag": Garbage(422, json={"title": "x", "tags": [""]}),
    "too many tags": Garbage(
        422, json={"title": "x", "tags": [f"t{n}" for n in range(MAX_TAGS + 1)]}
    ),
    "a null title": Garbage(422, json={"title": None}),
}

FULL_BODY_ONLY = {"no title": Garbage(422, json={"description": "no title"})}

PATCH_ONLY = {
    "an empty patch": Garbage(422, json={}),
    "a null description": Garbage(422, json={"description": None}),
    "null tags": Garbage(422, json={"tags": None}),
}

BAD_IDS = [
    "not-a-uuid",
    "42",
    "0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e1",
    "0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e11x",
    "0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e1g",
    "%00",
    "' OR 1=1 --",
    "x" * 5000,
]

BAD_QUERIES = [
    {"limit": "0"},
    {"limit": "501"},
    {"limit": "-1"},
    {"limit": "ten"},
    {"limit": "1.5"},
    {"limit": ""},
    {"limit": str(10**30)},
    {"skip": "-1"},
    {"skip": "many"},
    {"skip": str(2**63)},
]


def _cases() -> list[Any]:
    body_cases = {**NOT_JSON, **WRONG_SHAPE}
    cases = []
    for method, path, specific in [
        ("POST", "/notes/", FULL_BODY_ONLY),
        ("PUT", "/notes/{id}", FULL_BODY_ONLY),
        ("PATCH", "/notes/{id}", PATCH_ONLY),
    ]:
        for name, garbage in {**body_cases, **specific}.items():
            cases.append(pytest.param(method, path, garbage, id=f"{method} {name}"))
    for bad_id in BAD_IDS:
        for method in ("GET", "PUT", "PATCH", "DELETE"):
            body = {"title": "x"} if method in ("PUT", "PATCH") else None
            garbage = Garbage(422, json=body)
            cases.append(
                pytest.param(method, f"/notes/{bad_id}", garbage, id=f"{method} id {bad_id[:40]}")
            )
    for params in BAD_QUERIES:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        cases.append(pytest.param("GET", f"/notes/?{query}", Garbage(422), id=f"GET ?{query[:40]}"))
    cases.append(
        pytest.param(
            "PUT",
            "/notes/{id}",
            Garbage(400, json={"title": "x"}, headers={"If-Match": "not an etag"}),
            id="PUT a malformed If-Match",
        )
    )
    return cases


@pytest.fixture
async def stored(client: httpx.AsyncClient) -> list[Any]:
    """Two stored notes, as listed."""
    for title in ("Groceries", "Chores"):
        response = await client.post("/notes/", json={"title": title, "tags": ["home"]})
        assert response.status_code == 201
    notes: list[Any] = (await client.get("/notes/")).json()
    return notes


@pytest.mark.parametrize(("method", "path", "garbage"), _cases())
async def test_garbage_is_a_4xx_problem_and_changes_nothing(
    client: httpx.AsyncClient, stored: list[Any], method: str, path: str, garbage: Garbage
) -> None:
    url = path.replace("{id}", stored[0]["id"])

    response = await client.request(method, url, **garbage.request())

    problem = assert_problem(response, garbage.status)
    assert len(response.text) < 5_000, "the problem must not echo the request"
    if garbage.status == 422:
        assert problem["errors"], problem
        assert all(error["loc"] and error["msg"] for error in problem["errors"])
    assert (await client.get("/notes/")).json() == stored
