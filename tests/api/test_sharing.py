"""Sharing over HTTP: every endpoint answered as API.md says, for each kind of caller.

``MATRIX`` is the whole table: one row per endpoint, the answer for the note's owner, a
``write`` grantee, a ``read`` grantee, a stranger, and someone holding only a public link
(no credentials). A new endpoint is one more row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.api.client import PASSWORD, app_over, assert_problem, serving

ROLES = ("owner", "write", "read", "stranger", "public")
NAMES = {"owner": "alice", "write": "wally", "read": "rita", "stranger": "steve"}


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    answers: tuple[int, int, int, int, int]
    """The status for owner, write grantee, read grantee, stranger, public link holder."""
    body: Any = None
    trashed: bool = False
    """Ask after the owner moved the note to the trash."""
    headers: dict[str, str] = field(default_factory=dict)


_BODY = {"title": "changed", "description": "by someone", "tags": ["x"]}
MATRIX = (
    Row("GET", "/notes/{id}", (200, 200, 200, 404, 401)),
    Row("PUT", "/notes/{id}", (200, 200, 403, 404, 401), _BODY, headers={"If-Match": '"1"'}),
    Row("PATCH", "/notes/{id}", (200, 200, 403, 404, 401), {"title": "patched"}),
    Row("DELETE", "/notes/{id}", (204, 403, 403, 404, 401)),
    Row("GET", "/notes/", (200, 200, 200, 200, 401)),
    Row("POST", "/notes/", (201, 201, 201, 201, 401), _BODY),
    Row("POST", "/notes/import", (201, 201, 201, 201, 401), [_BODY]),
    Row("GET", "/notes/export", (200, 200, 200, 200, 401)),
    Row("GET", "/notes/changes", (200, 200, 200, 200, 401)),
    Row("GET", "/notes/{id}/revisions", (200, 404, 404, 404, 401)),
    Row("GET", "/notes/{id}/revisions/1", (200, 404, 404, 404, 401)),
    Row("POST", "/notes/{id}/revisions/1/restore", (200, 404, 404, 404, 401)),
    Row("GET", "/trash/", (200, 200, 200, 200, 401), trashed=True),
    Row("GET", "/trash/{id}", (200, 404, 404, 404, 401), trashed=True),
    Row("POST", "/trash/{id}/restore", (200, 404, 404, 404, 401), trashed=True),
    Row("DELETE", "/trash/{id}", (204, 404, 404, 404, 401), trashed=True),
    Row("PUT", "/notes/{id}/shares/steve", (200, 404, 404, 404, 401), {"permission": "read"}),
    Row("GET", "/notes/{id}/shares", (200, 404, 404, 404, 401)),
    Row("DELETE", "/notes/{id}/shares/rita", (204, 404, 404, 404, 401)),
    Row("GET", "/shared/", (200, 200, 200, 200, 401)),
    Row("POST", "/notes/{id}/links", (201, 404, 404, 404, 401), {"expires_in_days": 1}),
    Row("GET", "/notes/{id}/links", (200, 404, 404, 404, 401)),
    Row("DELETE", "/notes/{id}/links/{link}", (204, 404, 404, 404, 401)),
    Row("GET", "/public/{token}", (200, 200, 200, 200, 200)),
    Row("GET", "/public/{token}", (404, 404, 404, 404, 404), trashed=True),
)


@dataclass
class World:
    tokens: dict[str, dict[str, str]]
    note: str = ""
    link: str = ""
    public: str = ""


async def _signed_in(client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    tokens: dict[str, dict[str, str]] = {"public": {}}
    for role, name in NAMES.items():
        registered = await client.post("/users/", json={"username": name, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        session = await client.post("/auth/token", data={"username": name, "password": PASSWORD})
        tokens[role] = {"Authorization": f"Bearer {session.json()['access_token']}"}
    return tokens


async def _set_up(client: httpx.AsyncClient, world: World, *, trashed: bool) -> None:
    """A fresh note of alice's, shared with wally (write) and rita (read), with a link."""
    owner = world.tokens["owner"]
    created = await client.post("/notes/", json={"title": "plan"}, headers=owner)
    world.note = created.json()["id"]
    for name, permission in (("wally", "write"), ("rita", "read")):
        shared = await client.put(
            f"/notes/{world.note}/shares/{name}", json={"permission": permission}, headers=owner
        )
        assert shared.status_code == 200, shared.text
    linked = await client.post(f"/notes/{world.note}/links", json={}, headers=owner)
    assert linked.status_code == 201, linked.text
    world.link = linked.json()["id"]
    world.public = linked.json()["url"].rsplit("/", 1)[1]
    if trashed:
        deleted = await client.delete(f"/notes/{world.note}", headers=owner)
        assert deleted.status_code == 204


async def test_every_endpoint_answers_each_kind_of_caller_as_the_contract_says(
    anonymous: httpx.AsyncClient,
) -> None:
    world = World(await _signed_in(anonymous))
    wrong = []
    state: bool | None = None  # the state set up (trashed or not); None: changed since
    for row in MATRIX:
        for role, expected in zip(ROLES, row.answers, strict=True):
            if state is not row.trashed:
                await _set_up(anonymous, world, trashed=row.trashed)
                state = row.trashed
            path = row.path.format(id=world.note, link=world.link, token=world.public)
            response = await anonymous.request(
                row.method,
                path,
                json=row.body,
                headers={**world.tokens[role], **row.headers},
            )
            if row.method != "GET" and response.status_code < 400:
                state = None  # a write succeeded: the next caller gets a fresh note
            if response.status_code != expected:
                wrong.append((row.method, row.path, role, expected, response.status_code))
            elif expected >= 400:
                assert_problem(response, expected)
    assert wrong == []


async def test_every_note_names_its_owner_and_only_grantees_list_shared_notes(
    anonymous: httpx.AsyncClient,
) -> None:
    world = World(await _signed_in(anonymous))
    await _set_up(anonymous, world, trashed=False)
    owner, write, read = (world.tokens[r] for r in ("owner", "write", "read"))
    own = await anonymous.post("/notes/", json={"title": "wally's"}, headers=write)
    assert own.json()["owner"] == "wally"

    assert (await anonymous.get(f"/notes/{world.note}", headers=read)).json()["owner"] == "alice"
    edited = await anonymous.patch(f"/notes/{world.note}", json={"title": "b"}, headers=write)
    assert (edited.json()["owner"], edited.json()["version"], edited.headers["ETag"]) == (
        "alice",
        2,
        '"2"',
    )
    mine = await anonymous.get("/notes/", headers=write)
    assert [(n["title"], n["owner"]) for n in mine.json()] == [("wally's", "wally")]
    # The feed is the caller's own notes: the grantee's edit is in the owner's feed only.
    feeds = {
        role: await anonymous.get("/notes/changes", headers=world.tokens[role])
        for role in ("owner", "write", "read")
    }
    followed = {role: [c["id"] for c in a.json()["changes"]] for role, a in feeds.items()}
    assert followed == {"owner": [world.note], "write": [own.json()["id"]], "read": []}
    shared = await anonymous.get("/shared/", headers=write)
    assert [(n["id"], n["owner"]) for n in shared.json()] == [(world.note, "alice")]
    assert shared.headers["Cache-Control"] == "no-store"
    exported = await anonymous.get("/notes/export", headers=write)
    assert [line for line in exported.text.splitlines() if world.note in line] == []
    assert '"owner":"alice"' in (await anonymous.get("/notes/export", headers=owner)).text
    await anonymous.delete(f"/notes/{world.note}", headers=owner)
    trashed = await anonymous.get("/trash/", headers=owner)
    assert [n["owner"] for n in trashed.json()] == ["alice"]
    assert (await anonymous.get("/shared/", headers=read)).json() == []
    restored = await anonymous.post(f"/trash/{world.note}/restore", headers=owner)
    assert restored.json()["owner"] == "alice"
    revision = await anonymous.post(f"/notes/{world.note}/revisions/1/restore", headers=owner)
    assert revision.json()["owner"] == "alice"


async def test_the_shared_listing_pages_by_cursor_and_filters(
    anonymous: httpx.AsyncClient,
) -> None:
    tokens = await _signed_in(anonymous)
    owner, read = tokens["owner"], tokens["read"]
    ids = []
    for n in range(5):
        body = {"title": f"note {n}", "description": "sourdough" if n % 2 else "rye"}
        created = await anonymous.post(
            "/notes/", json={**body, "tags": [f"t{n % 2}"]}, headers=owner
        )
        ids.append(created.json()["id"])
        await anonymous.put(
            f"/notes/{ids[-1]}/shares/rita", json={"permission": "read"}, headers=owner
        )
    first = await anonymous.get("/shared/", params={"limit": 2}, headers=read)
    seen = [n["id"] for n in first.json()]
    following = first.links["next"]["url"]
    while following:
        page = await anonymous.get(following, headers=read)
        seen += [n["id"] for n in page.json()]
        following = page.links.get("next", {}).get("url")
    assert seen == ids[::-1]
    found = await anonymous.get("/shared/", params={"q": "sourdough", "tag": "t1"}, headers=read)
    assert {n["id"] for n in found.json()} == {ids[1], ids[3]}
    assert_problem(await anonymous.get("/shared/", params={"cursor": "junk"}, headers=read), 400)
    assert_problem(
        await anonymous.get("/shared/", params={"order": "relevance"}, headers=read), 422
    )


async def test_shares_and_links_answer_their_statuses(anonymous: httpx.AsyncClient) -> None:
    tokens = await _signed_in(anonymous)
    owner = tokens["owner"]
    note = (await anonymous.post("/notes/", json={"title": "plan"}, headers=owner)).json()["id"]
    share = f"/notes/{note}/shares"
    for body in ({"permission": "admin"}, {"permission": 1}, {}, {"permission": "read", "x": 1}):
        assert_problem(await anonymous.put(f"{share}/rita", json=body, headers=owner), 422)
    assert_problem(
        await anonymous.put(f"{share}/alice", json={"permission": "read"}, headers=owner), 422
    )
    assert_problem(
        await anonymous.put(f"{share}/nobody", json={"permission": "read"}, headers=owner), 404
    )
    made = await anonymous.put(f"{share}/RITA", json={"permission": "write"}, headers=owner)
    assert made.status_code == 200
    assert set(made.json()) == {"username", "permission", "created_date"}
    assert made.json()["username"] == "rita"
    listed = await anonymous.get(share, headers=owner)
    assert [(s["username"], s["permission"]) for s in listed.json()] == [("rita", "write")]
    assert (await anonymous.delete(f"{share}/rita", headers=owner)).status_code == 204
    assert_problem(await anonymous.delete(f"{share}/rita", headers=owner), 404)
    assert_problem(await anonymous.get(f"/notes/{note}", headers=tokens["read"]), 404)

    links = f"/notes/{note}/links"
    for body in ({"expires_in_days": 0}, {"expires_in_days": 366}, {"expires_in_days": "7"}):
        assert_problem(await anonymous.post(links, json=body, headers=owner), 422)
    created = await anonymous.post(links, headers=owner)
    assert created.status_code == 201
    link = created.json()
    assert set(link) == {"id", "url", "created_date", "expires_date"}
    token = link["url"].rsplit("/", 1)[1]
    listed = await anonymous.get(links, headers=owner)
    assert [set(k) for k in listed.json()] == [{"id", "created_date", "expires_date"}]
    assert token not in listed.text

    public = await anonymous.get(f"/public/{token}")
    assert public.status_code == 200
    assert public.headers["Cache-Control"] == "no-store"
    assert set(public.json()) == {"title", "description", "tags", "created_date", "updated_date"}
    assert (await anonymous.delete(f"{links}/{link['id']}", headers=owner)).status_code == 204
    unknown = await anonymous.get(f"/public/{token[:-2]}xx")
    revoked = await anonymous.get(f"/public/{token}")
    assert assert_problem(unknown, 404) == assert_problem(revoked, 404)
    assert_problem(await anonymous.delete(f"{links}/{link['id']}", headers=owner), 404)
    assert_problem(await anonymous.get("/public/" + "a" * 201), 422)


@pytest.mark.parametrize("backend", ["memory"])
async def test_public_links_are_limited_per_client_address(backend: str) -> None:
    app = app_over(public_link_max_requests=3)
    async with serving(app) as client:
        await client.post("/users/", json={"username": "alice", "password": PASSWORD})
        session = await client.post("/auth/token", data={"username": "alice", "password": PASSWORD})
        owner = {"Authorization": f"Bearer {session.json()['access_token']}"}
        note = (await client.post("/notes/", json={"title": "p"}, headers=owner)).json()["id"]
        url = (await client.post(f"/notes/{note}/links", headers=owner)).json()["url"]
        token = url.rsplit("/", 1)[1]
        answers = [(await client.get(f"/public/{token}")).status_code for _ in range(3)]
        refused = await client.get(f"/public/{token}")
    assert answers == [200, 200, 200]
    assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) >= 1
