"""``FastRoute`` answers exactly as FastAPI's own handler does, and skips FastAPI's
dependency solver only for well-formed requests.

Two apps declare the same endpoints, one with ``FastRoute`` and one with FastAPI's
``APIRoute``; every request, well-formed or not, must get the same status, headers and body
from both.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Literal
from uuid import UUID

import fastapi.routing
import httpx
import pytest
from fastapi import Body, Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from entrypoints.http.fastpath import FAST_DEPENDENCIES, FastRoute


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=10)
    tags: list[str] = []
    size: int = 0


class Refused(Exception):
    """Raised by the caller dependency, answered 401 by the app."""


async def caller(request: Request) -> str:
    token = request.headers.get("authorization")
    if token != "Bearer good":
        raise Refused
    return "alice"


Caller = Annotated[str, Depends(caller)]


def _echo(**values: object) -> Response:
    return Response(json.dumps(values, default=str, sort_keys=True), media_type="application/json")


async def read(
    item_id: Annotated[UUID, Path()],
    who: Caller,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    return _echo(item_id=item_id, who=who, if_none_match=if_none_match)


async def listing(
    who: Caller,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    q: Annotated[str | None, Query(max_length=5)] = None,
    tag: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies it
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> Response:
    return _echo(who=who, limit=limit, q=q, tag=tag, order=order)


async def create(
    item: Item, who: Caller, idempotency_key: Annotated[str | None, Header()] = None
) -> Response:
    return _echo(item=item.model_dump(), who=who, key=idempotency_key)


async def create_many(
    items: Annotated[list[Item], Body(min_length=1, max_length=3)], who: Caller
) -> Response:
    return _echo(items=[item.model_dump() for item in items], who=who)


def _app(route_class: type[APIRoute]) -> FastAPI:
    app = FastAPI(redirect_slashes=False)

    @app.exception_handler(Refused)
    async def refused(_request: Request, _error: Refused) -> Response:
        return Response(status_code=401)

    for path, endpoint, method in (
        ("/items/{item_id}", read, "GET"),
        ("/items/", listing, "GET"),
        ("/items/", create, "POST"),
        ("/items/many", create_many, "POST"),
    ):
        app.router.add_api_route(path, endpoint, methods=[method], route_class_override=route_class)
    return app


@pytest.fixture(scope="module")
def apps() -> Iterator[tuple[FastAPI, FastAPI]]:
    FAST_DEPENDENCIES[caller] = caller
    try:
        yield _app(FastRoute), _app(APIRoute)
    finally:
        del FAST_DEPENDENCIES[caller]


@pytest.fixture
async def clients(apps: tuple[FastAPI, FastAPI]) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    fast, plain = (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        for app in apps
    )
    async with fast, plain:
        yield fast, plain


@pytest.fixture
def solver_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the calls of FastAPI's dependency solver."""
    calls: list[int] = []
    solve = fastapi.routing.solve_dependencies

    async def counted(**options: object) -> object:
        calls.append(1)
        return await solve(**options)  # type: ignore[arg-type]

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    return calls


GOOD = {"authorization": "Bearer good"}
ITEM = "0b6bd0a4-3c1b-4c57-9d0a-6a2f2a3b8c11"

Case = tuple[str, str, dict[str, str], object]
"""A request: method, URL, headers, and a body (JSON, or text sent as JSON, or None)."""


WELL_FORMED: list[Case] = [
    ("GET", f"/items/{ITEM}", GOOD, None),
    ("GET", f"/items/{ITEM}", {**GOOD, "If-None-Match": '"3"'}, None),
    ("GET", "/items/", GOOD, None),
    ("GET", "/items/?limit=50&q=abc&tag=a&tag=b&order=asc", GOOD, None),
    ("POST", "/items/", {**GOOD, "Idempotency-Key": "k1"}, {"name": "x", "tags": ["a"]}),
    ("POST", "/items/many", GOOD, [{"name": "x"}, {"name": "y", "size": 2}]),
]

MALFORMED: list[Case] = [
    ("GET", "/items/not-a-uuid", GOOD, None),
    ("GET", "/items/?limit=0", GOOD, None),
    ("GET", "/items/?limit=x&order=sideways", GOOD, None),
    ("GET", "/items/?q=toolong", GOOD, None),
    ("POST", "/items/", GOOD, {"name": ""}),
    ("POST", "/items/", GOOD, {"tags": "a"}),
    ("POST", "/items/", GOOD, "[1, 2"),
    ("POST", "/items/", {**GOOD, "Content-Type": "text/plain"}, '{"name": "x"}'),
    ("POST", "/items/", GOOD, ""),
    ("POST", "/items/many", GOOD, []),
    ("POST", "/items/many", GOOD, [{"name": "x"}] * 4),
]

REFUSED: list[Case] = [
    ("GET", f"/items/{ITEM}", {}, None),
    ("GET", "/items/not-a-uuid", {"authorization": "Bearer bad"}, None),
    ("POST", "/items/", {}, {"name": "x"}),
]


async def _both(
    clients: tuple[httpx.AsyncClient, ...], case: Case
) -> list[tuple[int, dict[str, str], bytes]]:
    """Each client's answer to ``case``: status, headers, body."""
    method, url, headers, body = case
    answers = []
    for client in clients:
        if isinstance(body, str):
            content = body.encode()
            sent = {"Content-Type": "application/json", **headers}
            answer = await client.request(method, url, headers=sent, content=content)
        elif body is None:
            answer = await client.request(method, url, headers=headers)
        else:
            answer = await client.request(method, url, headers=headers, json=body)
        answers.append((answer.status_code, dict(answer.headers), answer.content))
    return answers


@pytest.mark.parametrize("case", WELL_FORMED + MALFORMED + REFUSED)
async def test_every_answer_is_fastapis(
    clients: tuple[httpx.AsyncClient, ...],
    case: Case,
) -> None:
    fast, plain = await _both(clients, case)
    assert fast == plain


@pytest.mark.parametrize("case", WELL_FORMED)
async def test_a_well_formed_request_skips_fastapis_solver(
    clients: tuple[httpx.AsyncClient, ...],
    solver_calls: list[int],
    case: Case,
) -> None:
    fast, _plain = await _both(clients, case)
    assert fast[0] == 200
    # The plain app solved once; the fast one not at all.
    assert len(solver_calls) == 1


@pytest.mark.parametrize("case", MALFORMED)
async def test_a_malformed_request_is_left_to_fastapi(
    clients: tuple[httpx.AsyncClient, ...],
    solver_calls: list[int],
    case: Case,
) -> None:
    fast_client, plain_client = clients
    await _both((plain_client,), case)
    by_fastapi = len(solver_calls)
    fast = await _both((fast_client,), case)
    assert fast[0][0] in (400, 422)
    # The fast route's request went through FastAPI's handler just as the plain one did.
    assert len(solver_calls) == 2 * by_fastapi


async def test_a_fast_route_answers_at_both_forms_of_its_path(
    clients: tuple[httpx.AsyncClient, ...],
) -> None:
    fast, _plain = clients
    for url in (f"/items/{ITEM}", f"/items/{ITEM}/", "/items/", "/items"):
        answer = await fast.get(url, headers=GOOD)
        assert answer.status_code == 200, url
    assert (await fast.get(f"/items/{ITEM}//", headers=GOOD)).status_code == 404


_QUERY_VALUES = st.sampled_from(
    ["", "0", "1", "50", "51", "-1", "1.5", "x", "abc", "toolong", "asc", "desc", "ASC", "%20"]
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["limit", "q", "tag", "order", "other"]), _QUERY_VALUES),
        max_size=5,
    )
)
async def test_any_query_gets_fastapis_answer(
    clients: tuple[httpx.AsyncClient, ...], pairs: list[tuple[str, str]]
) -> None:
    query = "&".join(f"{name}={value}" for name, value in pairs)
    fast, plain = await _both(clients, ("GET", f"/items/?{query}", GOOD, None))
    assert fast == plain
