"""The routes' shortcuts answer exactly as FastAPI's own handler does, and skip FastAPI's
dependency solving only for well-formed requests.

Two fresh apps over the memory backend, one with shortcuts and one without, are driven
with the same sequence of requests; each request must get the same status, body and
headers from both, once what differs by construction (ids, dates, tokens, cursors) is
replaced by placeholders.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import Request

from domain.search import MAX_QUERY_LENGTH
from entrypoints.http import create_app
from entrypoints.http.dependencies import Caller, _BearerCaller
from tests.api.client import container_over, serving, sign_in

MISSING = "0b6bd0a4-3c1b-4c57-9d0a-6a2f2a3b8c11"


@dataclass
class Driven:
    """One app's client, and the values of this app that requests name by placeholder."""

    client: httpx.AsyncClient
    values: dict[str, str] = field(default_factory=dict)


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Driven, Driven]]:
    """The app with shortcuts and the app without, each signed in as alice with the same
    notes."""
    async with AsyncExitStack() as stack:
        driven = []
        for shortcuts in (True, False):
            app = create_app(container_over(), shortcuts=shortcuts)
            client = await stack.enter_async_context(serving(app))
            await sign_in(client)
            token = client.headers.pop("Authorization").removeprefix("Bearer ")
            one = Driven(client, {"token": token})
            auth = {"Authorization": f"Bearer {token}"}
            for title, tags in (("milk", ["home"]), ("bread", ["home", "work"]), ("tea", [])):
                created = await client.post(
                    "/notes/", json={"title": title, "tags": tags}, headers=auth
                )
                assert created.status_code == 201, created.text
                one.values.setdefault("note", created.json()["id"])
            first = await client.get("/notes/?limit=1", headers=auth)
            cursor = re.search(r"cursor=([^&>]+)", first.headers["link"])
            assert cursor is not None
            one.values["cursor"] = cursor[1]
            driven.append(one)
        yield driven[0], driven[1]


Case = tuple[str, str, list[tuple[str, str]], Any]
"""A request: method, URL and headers (with ``{note}``, ``{token}``, ``{cursor}``), and a
body: JSON for a dict or list, sent as it is for bytes (with no content-type of its own),
or None."""

AUTH = ("Authorization", "Bearer {token}")
JSON = ("Content-Type", "application/json")
GOOD_NOTE = {"title": "eggs", "description": "a dozen", "tags": ["home"]}

WELL_FORMED: list[Case] = [
    ("GET", "/notes/{note}", [AUTH], None),
    ("GET", "/notes/{note}/", [AUTH], None),
    ("GET", "/notes/{note}", [AUTH, ("If-None-Match", '"1"')], None),
    ("GET", "/notes/{note}", [AUTH, ("If-None-Match", '"2", W/"1"')], None),
    ("GET", "/notes/{note}", [AUTH, ("If-None-Match", "*")], None),
    ("GET", f"/notes/{MISSING}", [AUTH], None),
    ("GET", "/notes/{note}", [("Authorization", "bearer {token}")], None),
    ("GET", "/notes/{note}", [("Authorization", "Bearer not-a-token")], None),
    ("GET", "/notes/", [AUTH], None),
    ("GET", "/notes", [AUTH], None),
    ("GET", "/notes/?limit=1", [AUTH], None),
    ("GET", "/notes/?limit=500&order=created_asc", [AUTH], None),
    ("GET", "/notes/?limit=2&order=updated_desc&tag=home", [AUTH], None),
    ("GET", "/notes/?tag=home&tag=work", [AUTH], None),
    ("GET", "/notes/?q=milk", [AUTH], None),
    ("GET", "/notes/?q=milk&order=relevance", [AUTH], None),
    ("GET", "/notes/?order=relevance", [AUTH], None),
    ("GET", "/notes/?q=%22a%20phrase%22%20-x%20pre*", [AUTH], None),
    ("GET", "/notes/?limit=1&cursor={cursor}", [AUTH], None),
    ("GET", "/notes/?limit=1&cursor={cursor}&order=created_asc", [AUTH], None),
    ("GET", "/notes/?cursor=abc", [AUTH], None),
    ("GET", "/notes/?limit=1", [("Authorization", "Bearer not-a-token")], None),
    ("POST", "/notes/", [AUTH], GOOD_NOTE),
    ("POST", "/notes/", [AUTH], {"title": "only a title"}),
    ("POST", "/notes/", [AUTH, ("Idempotency-Key", "k1")], GOOD_NOTE),
    ("POST", "/notes/", [AUTH, ("Idempotency-Key", "k1")], GOOD_NOTE),
    ("POST", "/notes/", [AUTH, ("Idempotency-Key", "k1")], {"title": "other"}),
    ("POST", "/notes/", [("Authorization", "Bearer not-a-token")], GOOD_NOTE),
]

MALFORMED: list[Case] = [
    ("GET", "/notes/not-a-uuid", [AUTH], None),
    ("GET", f"/notes/{MISSING.upper()}", [AUTH], None),
    ("GET", f"/notes/{MISSING.replace('-', '')}", [AUTH], None),
    ("GET", f"/notes/%7B{MISSING}%7D", [AUTH], None),
    ("GET", f"/notes/urn:uuid:{MISSING}", [AUTH], None),
    ("GET", "/notes/%ED%A0%80", [AUTH], None),
    ("GET", "/notes/{note}", [], None),
    ("GET", "/notes/{note}", [("Authorization", "Basic {token}")], None),
    ("GET", "/notes/{note}", [("Authorization", "Bearer")], None),
    ("GET", "/notes/{note}", [("Authorization", "Bearer ")], None),
    ("GET", "/notes/{note}", [AUTH, ("Authorization", "Bearer other")], None),
    ("GET", "/notes/{note}", [("Authorization", "Bearer other"), AUTH], None),
    ("GET", "/notes/{note}", [AUTH, ("If-None-Match", '"1"'), ("If-None-Match", '"2"')], None),
    ("GET", "/notes/not-a-uuid", [], None),
    ("GET", "/notes/?limit=0", [AUTH], None),
    ("GET", "/notes/?limit=501", [AUTH], None),
    ("GET", "/notes/?limit=abc", [AUTH], None),
    ("GET", "/notes/?limit=", [AUTH], None),
    ("GET", "/notes/?limit=+5", [AUTH], None),
    ("GET", "/notes/?limit=005", [AUTH], None),
    ("GET", "/notes/?limit=%D9%A1", [AUTH], None),
    ("GET", "/notes/?limit=1&limit=2", [AUTH], None),
    ("GET", "/notes/?order=sideways", [AUTH], None),
    ("GET", "/notes/?order=created_asc&order=created_desc", [AUTH], None),
    ("GET", "/notes/?limit=x&order=sideways", [AUTH], None),
    ("GET", f"/notes/?cursor={'x' * 1001}", [AUTH], None),
    ("GET", "/notes/?cursor=", [AUTH], None),
    ("GET", f"/notes/?q={'x' * (MAX_QUERY_LENGTH + 1)}", [AUTH], None),
    ("GET", f"/notes/?q={'x' * MAX_QUERY_LENGTH}", [AUTH], None),
    ("GET", "/notes/?q=", [AUTH], None),
    ("GET", "/notes/?q=a&q=b", [AUTH], None),
    ("GET", "/notes/?q=%ED%A0%80", [AUTH], None),
    ("GET", "/notes/?tag=", [AUTH], None),
    ("GET", "/notes/?tag", [AUTH], None),
    ("GET", "/notes/?skip=1", [AUTH], None),
    ("GET", "/notes/?skip=-1", [AUTH], None),
    ("GET", "/notes/?skip=1&cursor={cursor}", [AUTH], None),
    ("GET", "/notes/?unknown=1", [AUTH], None),
    ("GET", "/notes/?limit=0", [], None),
    ("GET", "/notes/", [("Authorization", "Bearer not-a-token"), AUTH], None),
    ("POST", "/notes/", [AUTH, JSON], b"[1, 2"),
    ("POST", "/notes/", [AUTH, JSON], b""),
    ("POST", "/notes/", [AUTH, JSON], b"null"),
    ("POST", "/notes/", [AUTH, JSON], b'{"title": "\xff"}'),
    ("POST", "/notes/", [AUTH, JSON], b'{"title": "\\ud800"}'),
    ("POST", "/notes/", [AUTH, JSON], b'{"title": "a", "title": ""}'),
    ("POST", "/notes/", [AUTH, JSON], b"[" * 100_000),
    ("POST", "/notes/", [AUTH, ("Content-Type", "text/plain")], b'{"title": "x"}'),
    ("POST", "/notes/", [AUTH], b'{"title": "x"}'),
    ("POST", "/notes/", [AUTH, ("Content-Type", "application/json; charset=utf-8")], GOOD_NOTE),
    ("POST", "/notes/", [AUTH, ("Content-Type", "application/merge-patch+json")], GOOD_NOTE),
    ("POST", "/notes/", [AUTH, JSON, JSON], b'{"title": "x"}'),
    ("POST", "/notes/", [AUTH], {"title": ""}),
    ("POST", "/notes/", [AUTH], {"tags": "a"}),
    ("POST", "/notes/", [AUTH], {"title": "x", "tags": [1]}),
    ("POST", "/notes/", [AUTH], {"title": "x", "colour": "red"}),
    ("POST", "/notes/", [AUTH], [GOOD_NOTE]),
    ("POST", "/notes/", [AUTH, ("Idempotency-Key", "a"), ("Idempotency-Key", "b")], GOOD_NOTE),
    ("POST", "/notes/", [], GOOD_NOTE),
    ("POST", "/notes/", [("Authorization", "Basic x")], {"title": ""}),
    ("POST", "/notes/", [AUTH, AUTH], GOOD_NOTE),
]

_COMPARED_HEADERS = (
    "content-type",
    "etag",
    "location",
    "link",
    "cache-control",
    "www-authenticate",
    "retry-after",
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DATE = re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)?")
_CURSOR = re.compile(r"cursor=[^&>]*")


def _fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def _normalised(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace(value, "{" + name + "}")
    return _CURSOR.sub("cursor=…", _DATE.sub("<date>", _UUID.sub("<uuid>", text)))


async def _answer(driven: Driven, case: Case) -> tuple[int, dict[str, str], str]:
    """``driven``'s answer to ``case``: status, compared headers and body, normalised."""
    method, url, headers, body = case
    sent = [(name, _fill(value, driven.values)) for name, value in headers]
    options: dict[str, Any] = {"headers": sent}
    if isinstance(body, bytes):
        options["content"] = body
    elif body is not None:
        options["json"] = body
    answer = await driven.client.request(method, _fill(url, driven.values), **options)
    compared = {
        name: _normalised(value, driven.values)
        for name in _COMPARED_HEADERS
        if (value := answer.headers.get(name)) is not None
    }
    return answer.status_code, compared, _normalised(answer.text, driven.values)


async def test_every_answer_is_fastapis(pair: tuple[Driven, Driven]) -> None:
    differences = []
    for case in WELL_FORMED + MALFORMED:
        with_shortcuts, without = [await _answer(driven, case) for driven in pair]
        if with_shortcuts != without:
            differences.append((case, with_shortcuts, without))
    assert differences == []


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> list[Request]:
    """The requests for which FastAPI solved the bearer-caller dependency."""
    requests: list[Request] = []
    solve = _BearerCaller.__call__

    async def counted(self: _BearerCaller, request: Request) -> Caller:
        requests.append(request)
        return await solve(self, request)

    monkeypatch.setattr(_BearerCaller, "__call__", counted)
    return requests


@pytest.mark.parametrize("case", WELL_FORMED)
async def test_a_well_formed_request_skips_fastapis_solving(
    pair: tuple[Driven, Driven], solved: list[Request], case: Case
) -> None:
    with_shortcuts, without = pair
    assert (await _answer(with_shortcuts, case))[0] < 500
    assert solved == []
    await _answer(without, case)
    assert len(solved) == 1


@pytest.mark.parametrize("case", [case for case in MALFORMED if AUTH in case[2]][:12])
async def test_a_malformed_request_is_left_to_fastapi(
    pair: tuple[Driven, Driven], solved: list[Request], case: Case
) -> None:
    with_shortcuts, _without = pair
    await _answer(with_shortcuts, case)
    assert len(solved) == 1
