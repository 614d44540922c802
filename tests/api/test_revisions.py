"""The revision and trash endpoints, every status they answer, on every backend."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from entrypoints.settings import Settings
from tests.api.client import app_over, assert_problem, serving, sign_in

MISSING_ID = "0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e11"


async def _create(client: httpx.AsyncClient, title: str = "Groceries", **fields: Any) -> Any:
    response = await client.post("/notes/", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def _edited(client: httpx.AsyncClient, note_id: str, *titles: str) -> None:
    for title in titles:
        response = await client.patch(f"/notes/{note_id}", json={"title": title})
        assert response.status_code == 200, response.text


async def _as_other_user(client: httpx.AsyncClient) -> str:
    """Sign ``client`` in as bob; alice's Authorization header, to switch back."""
    alice = client.headers["Authorization"]
    await sign_in(client, "bob")
    return alice


async def test_revisions_newest_first_paged_by_link(client: httpx.AsyncClient) -> None:
    note = await _create(client, "v1", description="one", tags=["a"])
    await _edited(client, note["id"], "v2", "v3")
    first = await client.get(f"/notes/{note['id']}/revisions", params={"limit": 2})
    assert first.status_code == 200
    assert [r["version"] for r in first.json()] == [3, 2]
    assert set(first.json()[0]) == {"version", "title", "description", "tags", "updated_date"}
    second = await client.get(first.links["next"]["url"])
    assert second.status_code == 200
    assert second.json() == [
        {
            "version": 1,
            "title": "v1",
            "description": "one",
            "tags": ["a"],
            "updated_date": note["updated_date"],
        }
    ]
    assert "next" not in second.links


async def test_one_revision_and_its_404s(client: httpx.AsyncClient) -> None:
    note = await _create(client, "v1")
    await _edited(client, note["id"], "v2")
    one = await client.get(f"/notes/{note['id']}/revisions/1")
    assert (one.status_code, one.json()["title"]) == (200, "v1")
    problem = assert_problem(await client.get(f"/notes/{note['id']}/revisions/9"), 404)
    assert problem["type"].endswith("revision-not-found")
    assert_problem(await client.get(f"/notes/{MISSING_ID}/revisions/1"), 404)
    assert_problem(await client.get(f"/notes/{MISSING_ID}/revisions"), 404)
    assert_problem(await client.get(f"/notes/{note['id']}/revisions/0"), 422)
    bad = await client.get(f"/notes/{note['id']}/revisions", params={"cursor": "forged.x"})
    assert_problem(bad, 400)


async def test_restoring_a_revision(client: httpx.AsyncClient) -> None:
    note = await _create(client, "first", tags=["x"])
    await _edited(client, note["id"], "second")
    url = f"/notes/{note['id']}/revisions/1/restore"
    stale = await client.post(url, headers={"If-Match": '"1"'})
    assert_problem(stale, 412)
    assert stale.headers["ETag"] == '"2"'
    assert_problem(await client.post(url, headers={"If-Match": "not a tag"}), 400)
    restored = await client.post(url, headers={"If-Match": '"2"'})
    assert restored.status_code == 200
    assert restored.headers["ETag"] == '"3"'
    assert (restored.json()["title"], restored.json()["version"]) == ("first", 3)
    current = await client.get(f"/notes/{note['id']}")
    assert current.json() == restored.json()
    listed = await client.get(f"/notes/{note['id']}/revisions")
    assert [r["version"] for r in listed.json()] == [3, 2, 1]
    assert_problem(await client.post(f"/notes/{note['id']}/revisions/7/restore"), 404)
    assert_problem(await client.post(f"/notes/{MISSING_ID}/revisions/1/restore"), 404)


async def test_a_deleted_note_leaves_every_read_but_the_trash(client: httpx.AsyncClient) -> None:
    kept = await _create(client, "milk kept", tags=["home"])
    doomed = await _create(client, "milk doomed", tags=["home"])
    assert_problem(await client.delete(f"/notes/{doomed['id']}", headers={"If-Match": '"2"'}), 412)
    deleted = await client.delete(f"/notes/{doomed['id']}", headers={"If-Match": '"1"'})
    assert deleted.status_code == 204
    assert_problem(await client.get(f"/notes/{doomed['id']}"), 404)
    assert_problem(await client.get(f"/notes/{doomed['id']}/revisions"), 404)
    assert_problem(await client.patch(f"/notes/{doomed['id']}", json={"title": "x"}), 404)
    for params in ({}, {"q": "milk"}, {"tag": "home"}):
        listed = await client.get("/notes/", params=params)
        assert [n["id"] for n in listed.json()] == [kept["id"]], params
    exported = await client.get("/notes/export")
    assert [line for line in exported.text.splitlines() if doomed["id"] in line] == []
    trashed = await client.get(f"/trash/{doomed['id']}")
    assert trashed.status_code == 200
    body = trashed.json()
    assert {k: body[k] for k in doomed} == doomed
    assert body["deleted_date"].endswith("Z")
    listed_trash = await client.get("/trash/")
    assert [n["id"] for n in listed_trash.json()] == [doomed["id"]]


async def test_an_idempotent_replay_does_not_resurrect(client: httpx.AsyncClient) -> None:
    body = {"title": "once"}
    headers = {"Idempotency-Key": "create-once"}
    created = await client.post("/notes/", json=body, headers=headers)
    note_id = created.json()["id"]
    assert (await client.delete(f"/notes/{note_id}")).status_code == 204
    replay = await client.post("/notes/", json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.json()["id"] == note_id
    assert_problem(await client.get(f"/notes/{note_id}"), 404)
    assert (await client.get("/notes/")).json() == []
    assert (await client.get(f"/trash/{note_id}")).status_code == 200


async def test_the_trash_pages_and_restores(client: httpx.AsyncClient) -> None:
    made = [await _create(client, f"n{i}") for i in range(3)]
    for note in made:
        assert (await client.delete(f"/notes/{note['id']}")).status_code == 204
    first = await client.get("/trash/", params={"limit": 2})
    assert [n["id"] for n in first.json()] == [made[2]["id"], made[1]["id"]]
    second = await client.get(first.links["next"]["url"])
    assert [n["id"] for n in second.json()] == [made[0]["id"]]
    assert "next" not in second.links
    assert_problem(await client.get("/trash/", params={"cursor": "forged.x"}), 400)
    restored = await client.post(f"/trash/{made[0]['id']}/restore")
    assert restored.status_code == 200
    assert (restored.json()["id"], restored.json()["version"]) == (made[0]["id"], 2)
    assert restored.headers["ETag"] == '"2"'
    assert (await client.get(f"/notes/{made[0]['id']}")).json() == restored.json()
    assert_problem(await client.post(f"/trash/{made[0]['id']}/restore"), 404)
    assert_problem(await client.get(f"/trash/{made[0]['id']}"), 404)


async def test_deleting_for_good(client: httpx.AsyncClient) -> None:
    note = await _create(client, "gone")
    assert_problem(await client.delete(f"/trash/{note['id']}"), 404)  # not in the trash yet
    assert (await client.delete(f"/notes/{note['id']}")).status_code == 204
    gone = await client.delete(f"/trash/{note['id']}")
    assert (gone.status_code, gone.content) == (204, b"")
    assert_problem(await client.get(f"/trash/{note['id']}"), 404)
    assert_problem(await client.delete(f"/trash/{note['id']}"), 404)
    assert_problem(await client.post(f"/trash/{note['id']}/restore"), 404)


async def test_another_user_reaches_neither_revisions_nor_trash(client: httpx.AsyncClient) -> None:
    note = await _create(client, "alice's")
    trashed = await _create(client, "alice's trashed")
    assert (await client.delete(f"/notes/{trashed['id']}")).status_code == 204
    alice = await _as_other_user(client)
    assert_problem(await client.get(f"/notes/{note['id']}/revisions"), 404)
    assert_problem(await client.get(f"/notes/{note['id']}/revisions/1"), 404)
    assert_problem(await client.post(f"/notes/{note['id']}/revisions/1/restore"), 404)
    assert (await client.get("/trash/")).json() == []
    assert_problem(await client.get(f"/trash/{trashed['id']}"), 404)
    assert_problem(await client.post(f"/trash/{trashed['id']}/restore"), 404)
    assert_problem(await client.delete(f"/trash/{trashed['id']}"), 404)
    client.headers["Authorization"] = alice
    assert (await client.get(f"/trash/{trashed['id']}")).status_code == 200


async def test_the_endpoints_need_a_token(anonymous: httpx.AsyncClient) -> None:
    for method, path in (
        ("GET", f"/notes/{MISSING_ID}/revisions"),
        ("GET", f"/notes/{MISSING_ID}/revisions/1"),
        ("POST", f"/notes/{MISSING_ID}/revisions/1/restore"),
        ("GET", "/trash/"),
        ("GET", f"/trash/{MISSING_ID}"),
        ("POST", f"/trash/{MISSING_ID}/restore"),
        ("DELETE", f"/trash/{MISSING_ID}"),
    ):
        assert_problem(await anonymous.request(method, path), 401)


async def test_a_restore_must_name_the_version_where_every_write_must() -> None:
    async with serving(app_over(require_if_match=True)) as client:
        await sign_in(client)
        note = await _create(client, "v1")
        url = f"/notes/{note['id']}/revisions/1/restore"
        assert_problem(await client.post(url), 428)
        assert (await client.post(url, headers={"If-Match": '"1"'})).status_code == 200


async def test_the_service_keeps_as_many_revisions_as_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NOTES_REVISIONS_KEPT", "2")
    monkeypatch.setenv("NOTES_TRASH_RETENTION_DAYS", "7")
    settings = Settings(database_url="memory://")
    assert (settings.revisions_kept, settings.trash_retention_days) == (2, 7)
    async with serving(app_over(revisions_kept=2)) as client:
        await sign_in(client)
        note = await _create(client, "v1")
        await _edited(client, note["id"], "v2", "v3")
        listed = await client.get(f"/notes/{note['id']}/revisions")
        assert [r["version"] for r in listed.json()] == [3, 2]
