"""Schemathesis against the app's own OpenAPI document: no 5xx, no undocumented answer.

Every operation of ``/openapi.json`` is fuzzed in process (schemathesis drives the app over
ASGI on the in-memory backend), as a signed-in user, with data that fits the document
(positive) and data that breaks it (negative). Each answer must be documented: its status,
its content type, its headers and its body's schema. Operations on one note are fuzzed both
at generated ids (mostly unknown: 404) and at a note created for each example, so the
answers of a real note are checked too.

Bounded in time: ``EXAMPLES`` cases per operation, mode and kind of id, a few seconds each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.api.client import PASSWORD, app_over

EXAMPLES = 40

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def client() -> Iterator[asgi.ASGIClient]:
    """Schemathesis's own client of a new app, whose lifespan runs until the end of the test
    (schemathesis's pytest plugin ends every started lifespan when a test ends, and a later
    request would start a new one: a new, empty in-memory database)."""
    app = app_over()
    try:
        with asgi.get_client(app) as started:
            yield started
    finally:
        asgi.shutdown_lifespans()


@pytest.fixture
def api_schema(client: asgi.ASGIClient) -> OpenApiSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", client.app)


@pytest.fixture
def bearer(client: asgi.ASGIClient) -> dict[str, str]:
    account = {"username": "fuzzer", "password": PASSWORD}
    assert client.post("/users/", json=account).status_code == 201
    session = client.post("/auth/token", data=account)
    assert session.status_code == 200
    return {"Authorization": f"Bearer {session.json()['access_token']}"}


def _fuzz(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    bearer: dict[str, str],
    note_id: Callable[[], str] | None,
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def fuzz(case: schemathesis.Case) -> None:
        if note_id is not None:
            case.path_parameters = {**(case.path_parameters or {}), "note_id": note_id()}
        case.call_and_validate(headers=bearer, checks=CHECKS)

    try:
        fuzz()
    except Unsatisfiable:
        # Nothing to break in an operation without parameters or body (negative mode).
        assert mode is GenerationMode.NEGATIVE


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_answer_is_documented_and_none_is_a_server_error(
    api_schema: OpenApiSchema,
    client: asgi.ASGIClient,
    bearer: dict[str, str],
    mode: GenerationMode,
) -> None:
    def new_note() -> str:
        created = client.post("/notes/", json={"title": "Fuzzed"}, headers=bearer)
        assert created.status_code == 201, created.text
        note_id: str = created.json()["id"]
        return note_id

    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:
        ids = [None, new_note] if "{note_id}" in operation.path else [None]
        for note_id in ids:
            try:
                _fuzz(operation, mode, bearer, note_id)
            except (Exception, FailureGroup) as failure:  # noqa: BLE001 - report every operation
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    assert not failures, "\n\n".join(failures)


SURROGATE = "\ud800"
INTEGER_EDGES = [2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64]


def _edge_cases(
    operation: schemathesis.APIOperation, case: schemathesis.Case
) -> Iterator[schemathesis.Case]:
    """``case`` with, in turn, a lone surrogate in each string of its JSON body (and of the
    first item of a list body), and each 64-bit integer edge in each integer query
    parameter. (A surrogate cannot travel in a URL, a header or a form: those encode text as
    UTF-8, which has no surrogates.)"""
    if case.media_type == "application/json":
        items = case.body if isinstance(case.body, list) else [case.body]
        first = items[0] if items and isinstance(items[0], dict) else None
        for key, value in (first or {}).items():
            if isinstance(value, str):
                broken = {**first, key: value + SURROGATE}  # type: ignore[dict-item]
            elif isinstance(value, list):
                broken = {**first, key: [SURROGATE]}  # type: ignore[dict-item]
            else:
                continue
            body = [broken, *items[1:]] if isinstance(case.body, list) else broken
            yield operation.Case(
                path_parameters=case.path_parameters,
                query=case.query,
                body=body,
                media_type=case.media_type,
            )
    for parameter in operation.query:
        if parameter.definition.get("schema", {}).get("type") != "integer":
            continue
        for edge in INTEGER_EDGES:
            yield operation.Case(
                path_parameters=case.path_parameters,
                query={**(case.query or {}), parameter.name: edge},
                body=case.body,
                media_type=case.media_type,
            )


def _fuzz_edges(operation: schemathesis.APIOperation, bearer: dict[str, str], note_id: str) -> int:
    """Send the edge cases of two generated cases of ``operation``; how many were sent."""
    sent = 0

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
    def edges(case: schemathesis.Case) -> None:
        nonlocal sent
        if "{note_id}" in operation.path:
            case.path_parameters = {**(case.path_parameters or {}), "note_id": note_id}
        for edge in _edge_cases(operation, case):
            sent += 1
            edge.call_and_validate(headers=bearer, checks=CHECKS)

    edges()
    return sent


def test_lone_surrogates_and_64_bit_integer_edges_are_answered_as_documented(
    api_schema: OpenApiSchema, client: asgi.ASGIClient, bearer: dict[str, str]
) -> None:
    created = client.post("/notes/", json={"title": "Edges"}, headers=bearer)
    assert created.status_code == 201, created.text
    note_id = created.json()["id"]
    failures: list[str] = []
    sent = 0
    for operation in [result.ok() for result in api_schema.get_all_operations()]:
        try:
            sent += _fuzz_edges(operation, bearer, note_id)
        except (Exception, FailureGroup) as failure:  # noqa: BLE001 - report every operation
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)
    assert sent > 20
