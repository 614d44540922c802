"""The OpenAPI document: what a client generator or a reader of ``/docs`` gets."""

from __future__ import annotations

from typing import Any

import pytest

from domain import MAX_DESCRIPTION_LENGTH, MAX_TAG_LENGTH, MAX_TAGS, MAX_TITLE_LENGTH
from entrypoints.http.notes import MAX_SKIP
from tests.api.client import app_over, serving


@pytest.fixture(scope="module")
async def document() -> dict[str, Any]:
    async with serving(app_over()) as client:
        response = await client.get("/openapi.json")
        assert response.status_code == 200
        assert (await client.get("/docs")).status_code == 200
        body: dict[str, Any] = response.json()
        return body


def test_it_lists_each_notes_path_once_with_its_operations(document: dict[str, Any]) -> None:
    operations = {
        path: {method for method in item if method in {"get", "post", "put", "patch", "delete"}}
        for path, item in document["paths"].items()
    }
    assert operations == {
        "/notes/": {"get", "post"},
        "/notes/{note_id}": {"get", "put", "patch", "delete"},
        "/notes/import": {"post"},
        "/notes/export": {"get"},
        "/notes/changes": {"get"},
        "/notes/{note_id}/revisions": {"get"},
        "/notes/{note_id}/revisions/{version}": {"get"},
        "/notes/{note_id}/revisions/{version}/restore": {"post"},
        "/trash/": {"get"},
        "/trash/{note_id}": {"get", "delete"},
        "/trash/{note_id}/restore": {"post"},
        "/notes/{note_id}/shares": {"get"},
        "/notes/{note_id}/shares/{username}": {"put", "delete"},
        "/shared/": {"get"},
        "/notes/{note_id}/links": {"get", "post"},
        "/notes/{note_id}/links/{link_id}": {"delete"},
        "/public/{token}": {"get"},
        "/healthz": {"get"},
        "/readyz": {"get"},
        "/metrics": {"get"},
        "/users/": {"post"},
        "/users/me": {"get"},
        "/users/me/tokens": {"get", "post"},
        "/users/me/tokens/{token_id}": {"delete"},
        "/auth/token": {"post"},
        "/auth/refresh": {"post"},
        "/auth/logout": {"post"},
        "/users/me/webhooks": {"get", "post"},
        "/users/me/webhooks/{webhook_id}": {"delete"},
        "/users/me/webhooks/{webhook_id}/deliveries": {"get"},
    }
    operation_ids = {
        document["paths"][path][method]["operationId"]
        for path, methods in operations.items()
        for method in methods
    }
    assert operation_ids == {
        "create_note",
        "list_notes",
        "get_note",
        "replace_note",
        "patch_note",
        "delete_note",
        "import_notes",
        "export_notes",
        "note_changes",
        "create_token",
        "list_tokens",
        "revoke_token",
        "list_revisions",
        "get_revision",
        "restore_revision",
        "list_trash",
        "get_trashed",
        "restore_trashed",
        "delete_for_good",
        "share_note",
        "list_shares",
        "unshare_note",
        "list_shared",
        "create_link",
        "list_links",
        "revoke_link",
        "read_public",
        "healthz",
        "readyz",
        "metrics",
        "register",
        "log_in",
        "refresh",
        "log_out",
        "who_am_i",
        "register_webhook",
        "list_webhooks",
        "delete_webhook",
        "list_deliveries",
    }


def test_every_operation_is_described_and_its_errors_are_problems(
    document: dict[str, Any],
) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["summary"], (method, path)
            assert operation["description"], (method, path)
            errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
            assert "500" in errors, (method, path)
            takes_input = operation.get("parameters") or operation.get("requestBody")
            if path.startswith("/notes") and takes_input:
                assert "422" in errors, (method, path)
            for status, response in errors.items():
                assert set(response["content"]) == {"application/problem+json"}, (status, path)
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}


def test_the_note_rules_are_documented_from_the_domain_limits(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("NoteCreate", "NoteReplace", "NotePatch"):
        fields = schemas[name]["properties"]
        assert f"{MAX_TITLE_LENGTH:,}" in fields["title"]["description"]
        assert f"{MAX_DESCRIPTION_LENGTH:,}" in fields["description"]["description"]
        assert str(MAX_TAGS) in fields["tags"]["description"]
        assert str(MAX_TAG_LENGTH) in fields["tags"]["description"]
        assert schemas[name]["additionalProperties"] is False
        assert schemas[name]["examples"]
        assert "null" not in str(fields), "a field may be left out but is never null"
    assert schemas["NoteCreate"]["required"] == ["title"]
    assert "required" not in schemas["NotePatch"]
    assert schemas["NotePublic"]["examples"]
    assert schemas["Problem"]["examples"]


def test_created_notes_document_their_location_and_etag(document: dict[str, Any]) -> None:
    created = document["paths"]["/notes/"]["post"]["responses"]["201"]
    assert set(created["headers"]) == {"Location", "ETag", "Cache-Control"}
    assert created["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NotePublic"
    }


def test_each_documented_error_comes_from_the_problems_table(document: dict[str, Any]) -> None:
    """A route's error answers are the statuses of the errors it declares, with the titles
    of the table's entries, and the headers they are sent with."""
    patch = document["paths"]["/notes/{note_id}"]["patch"]["responses"]
    assert {"400", "404", "409", "412", "413", "422", "428", "503"} <= set(patch)
    assert "Precondition failed" in patch["412"]["description"]
    assert "ETag" in patch["412"]["headers"]
    assert "Retry-After" in patch["503"]["headers"]
    login = document["paths"]["/auth/token"]["post"]["responses"]
    assert "Retry-After" in login["429"]["headers"]
    assert "WWW-Authenticate" in login["401"]["headers"]


def test_clients_get_named_schemas_and_an_exact_skip_maximum(document: dict[str, Any]) -> None:
    login = document["paths"]["/auth/token"]["post"]["requestBody"]["content"]
    assert login["application/x-www-form-urlencoded"]["schema"] == {
        "$ref": "#/components/schemas/LoginForm"
    }
    assert set(document["components"]["schemas"]["LoginForm"]["properties"]) == {
        "username",
        "password",
    }
    for path, schema in (("/healthz", "Health"), ("/readyz", "Ready")):
        ok = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert ok["schema"] == {"$ref": f"#/components/schemas/{schema}"}
    export = document["paths"]["/notes/export"]["get"]["responses"]["200"]["content"]
    assert export["application/x-ndjson"]["x-item-schema"] == {
        "$ref": "#/components/schemas/NotePublic"
    }
    listing = document["paths"]["/notes/"]["get"]["parameters"]
    (skip,) = (parameter for parameter in listing if parameter["name"] == "skip")
    assert skip["schema"]["maximum"] == MAX_SKIP == 2**31 - 1
