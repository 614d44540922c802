"""The contract of sharing, on every backend: the note as each caller may see it, what a
grantee may do, the grantee's listing, unsharing at once, deletion hiding a note from its
grantees, and public links that stop and start again with their note."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from adapters.system import Uuid7Factory
from application import (
    NoteChanges,
    NoteDraft,
    NoteNotFound,
    NoteQuery,
    Notes,
    NotPermitted,
    PreconditionFailed,
    UnitOfWorkFactory,
)
from application.revisions import PurgeTrash, Revisions, Trash
from application.sharing import (
    LinkNotFound,
    PublicLinkNotFound,
    ShareNotFound,
    Sharing,
    UserNotFound,
)
from domain.access import InvalidPermission, Relation
from domain.sharing import InvalidLinkLifetime, InvalidShare
from tests.owner_rule import SERVICE_STATEMENTS
from tests.support import ALICE, BOB, ManualClock

STRANGER = uuid4()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def notes(uow_factory: UnitOfWorkFactory, clock: ManualClock) -> Notes:
    return Notes(uow_factory, clock, Uuid7Factory())


@pytest.fixture
def sharing(uow_factory: UnitOfWorkFactory, clock: ManualClock) -> Sharing:
    return Sharing(uow_factory, clock, Uuid7Factory())


@pytest.fixture
def trash(uow_factory: UnitOfWorkFactory, clock: ManualClock) -> Trash:
    return Trash(uow_factory, clock)


async def test_a_read_grantee_reads_and_may_do_nothing_else(
    notes: Notes, sharing: Sharing, uow_factory: UnitOfWorkFactory, clock: ManualClock
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("plan", "the plan", ["work"]))
    with pytest.raises(NoteNotFound):
        await notes.get_note(BOB, note.id)
    share = await sharing.share(ALICE, note.id, "OWNER-BOB", "read")
    assert (share.grantee, share.permission) == ("owner-bob", Relation.READ)

    seen = await notes.read_note(BOB, note.id)
    assert (seen.note.title.value, seen.note.owner_id, seen.relation) == (
        "plan",
        ALICE,
        Relation.READ,
    )
    for refused in (
        notes.patch_note(BOB, note.id, NoteChanges(title="mine")),
        notes.replace_note(BOB, note.id, NoteDraft("mine")),
        notes.delete_note(BOB, note.id),
    ):
        with pytest.raises(NotPermitted):
            await refused
    revisions = Revisions(uow_factory, clock)
    for hidden in (
        revisions.list_revisions(BOB, note.id),
        revisions.get_revision(BOB, note.id, 1),
        revisions.restore_revision(BOB, note.id, 1),
        sharing.shares(BOB, note.id),
        sharing.share(BOB, note.id, "owner-alice", "read"),
        sharing.create_link(BOB, note.id),
        sharing.links(BOB, note.id),
    ):
        with pytest.raises(NoteNotFound):
            await hidden
    assert (await notes.get_note(ALICE, note.id)).version == 1
    with pytest.raises(NoteNotFound):
        await notes.get_note(STRANGER, note.id)


async def test_a_write_grantee_writes_the_owners_note_conditionally_with_revisions(
    notes: Notes, sharing: Sharing, uow_factory: UnitOfWorkFactory, clock: ManualClock
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("plan"))
    await sharing.share(ALICE, note.id, "owner-bob", "write")
    edited = await notes.patch_note(BOB, note.id, NoteChanges(title="plan b"), if_version=1)
    assert (edited.owner_id, edited.version) == (ALICE, 2)
    with pytest.raises(PreconditionFailed):
        await notes.patch_note(BOB, note.id, NoteChanges(title="stale"), if_version=1)
    assert (await notes.get_note(ALICE, note.id)).title.value == "plan b"
    page = await Revisions(uow_factory, clock).list_revisions(ALICE, note.id)
    assert [r.version for r in page.revisions] == [2, 1]
    with pytest.raises(NotPermitted):
        await notes.delete_note(BOB, note.id)
    # Shared notes are not the grantee's own: not in their listing, nor in their export.
    assert (await notes.find_notes(BOB, NoteQuery())).notes == []
    assert [n async for n in notes.export_notes(BOB)] == []


async def test_sharing_again_changes_the_permission_and_keeps_the_date(
    notes: Notes, sharing: Sharing, clock: ManualClock
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("plan"))
    first = await sharing.share(ALICE, note.id, "owner-bob", "read")
    clock.advance(timedelta(hours=1))
    again = await sharing.share(ALICE, note.id, "owner-bob", "write")
    assert (again.permission, again.created_date) == (Relation.WRITE, first.created_date)
    [listed] = await sharing.shares(ALICE, note.id)
    assert (listed.grantee, listed.permission) == ("owner-bob", Relation.WRITE)
    assert (await notes.read_note(BOB, note.id)).relation is Relation.WRITE


async def test_shares_refuse_unknown_users_the_owner_and_unknown_permissions(
    notes: Notes, sharing: Sharing
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("plan"))
    with pytest.raises(UserNotFound):
        await sharing.share(ALICE, note.id, "nobody-here", "read")
    with pytest.raises(UserNotFound):
        await sharing.share(ALICE, note.id, "\x00bad", "read")
    with pytest.raises(InvalidShare):
        await sharing.share(ALICE, note.id, "owner-alice", "read")
    with pytest.raises(InvalidPermission):
        await sharing.share(ALICE, note.id, "owner-bob", "admin")
    with pytest.raises(NoteNotFound):
        await sharing.share(ALICE, uuid4(), "owner-bob", "read")
    assert await sharing.shares(ALICE, note.id) == []


async def test_unsharing_takes_effect_at_once(notes: Notes, sharing: Sharing) -> None:
    note = await notes.create_note(ALICE, NoteDraft("plan"))
    await sharing.share(ALICE, note.id, "owner-bob", "write")
    await sharing.unshare(ALICE, note.id, "owner-bob")
    with pytest.raises(NoteNotFound):
        await notes.get_note(BOB, note.id)
    with pytest.raises(NoteNotFound):
        await notes.patch_note(BOB, note.id, NoteChanges(title="late"))
    assert (await sharing.find_shared(BOB, NoteQuery())).notes == []
    with pytest.raises(ShareNotFound):
        await sharing.unshare(ALICE, note.id, "owner-bob")


async def test_the_grantees_listing_pages_filters_and_searches(
    notes: Notes, sharing: Sharing, clock: ManualClock
) -> None:
    made = []
    for n in range(5):
        clock.advance(timedelta(seconds=1))
        note = await notes.create_note(
            ALICE,
            NoteDraft(
                f"note {n}", "sourdough" if n % 2 else "rye", ["even" if n % 2 == 0 else "odd"]
            ),
        )
        made.append(note)
        if n != 4:
            await sharing.share(ALICE, note.id, "owner-bob", "read")
    await notes.create_note(BOB, NoteDraft("bob's own"))
    shared = [n.id for n in made[:4]]

    first = await sharing.find_shared(BOB, NoteQuery(limit=3))
    assert [n.id for n in first.notes] == shared[::-1][:3]
    rest = await sharing.find_shared(BOB, NoteQuery(limit=3, after=first.next))
    assert [n.id for n in rest.notes] == [shared[0]]
    assert rest.next is None
    oldest = await sharing.find_shared(BOB, NoteQuery(order="created_asc", limit=2))
    after = await sharing.find_shared(BOB, NoteQuery(order="created_asc", after=oldest.next))
    assert [n.id for n in oldest.notes + after.notes] == shared
    tagged = await sharing.find_shared(BOB, NoteQuery(tags=["even"]))
    assert [n.id for n in tagged.notes] == [shared[2], shared[0]]
    found = await sharing.find_shared(BOB, NoteQuery(text="sourdough", order="relevance"))
    assert {n.id for n in found.notes} == {shared[1], shared[3]}
    await notes.patch_note(ALICE, shared[0], NoteChanges(title="touched"))
    updated = await sharing.find_shared(BOB, NoteQuery(order="updated_desc", limit=1))
    assert [n.id for n in updated.notes] == [shared[0]]
    assert (await sharing.find_shared(ALICE, NoteQuery())).notes == []
    assert (await sharing.find_shared(STRANGER, NoteQuery())).notes == []


async def test_deleting_a_note_hides_it_from_grantees_until_restored(
    notes: Notes, sharing: Sharing, trash: Trash, uow_factory: UnitOfWorkFactory
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("plan"))
    await sharing.share(ALICE, note.id, "owner-bob", "read")
    await notes.delete_note(ALICE, note.id)
    with pytest.raises(NoteNotFound):
        await notes.get_note(BOB, note.id)
    assert (await sharing.find_shared(BOB, NoteQuery())).notes == []
    with pytest.raises(NoteNotFound):
        await trash.get_trashed(BOB, note.id)
    await trash.restore(ALICE, note.id)
    assert (await notes.get_note(BOB, note.id)).id == note.id
    await notes.delete_note(ALICE, note.id)
    await trash.delete_for_good(ALICE, note.id)
    async with uow_factory() as uow:
        assert await uow.shares.list(ALICE, note.id) == []
        assert await uow.notes.visible(BOB, note.id) is None


async def test_a_public_link_opens_the_note_until_revoked_or_expired(
    notes: Notes, sharing: Sharing, trash: Trash, clock: ManualClock
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("plan", "public words", ["pub"]))
    issued = await sharing.create_link(ALICE, note.id, expires_in_days=2)
    assert issued.token not in repr(issued.link)
    assert len(issued.token) > 40
    assert (await sharing.public_note(issued.token)).title.value == "plan"
    [listed] = await sharing.links(ALICE, note.id)
    assert listed.id == issued.link.id

    await notes.delete_note(ALICE, note.id)
    with pytest.raises(PublicLinkNotFound):
        await sharing.public_note(issued.token)
    await trash.restore(ALICE, note.id)
    assert (await sharing.public_note(issued.token)).id == note.id

    clock.advance(timedelta(days=2))
    with pytest.raises(PublicLinkNotFound):
        await sharing.public_note(issued.token)
    other = await sharing.create_link(ALICE, note.id)
    await sharing.revoke_link(ALICE, note.id, other.link.id)
    with pytest.raises(PublicLinkNotFound):
        await sharing.public_note(other.token)
    with pytest.raises(LinkNotFound):
        await sharing.revoke_link(ALICE, note.id, other.link.id)
    for bad in ("", "x", issued.token + "x", f"{BOB.hex}.{issued.token.split('.')[1]}", "é" * 300):
        with pytest.raises(PublicLinkNotFound):
            await sharing.public_note(bad)
    with pytest.raises(InvalidLinkLifetime):
        await sharing.create_link(ALICE, note.id, expires_in_days=366)


async def test_the_purge_takes_shares_and_links_with_the_notes(
    notes: Notes, sharing: Sharing, clock: ManualClock, uow_factory: UnitOfWorkFactory
) -> None:
    note = await notes.create_note(ALICE, NoteDraft("plan"))
    await sharing.share(ALICE, note.id, "owner-bob", "read")
    await sharing.create_link(ALICE, note.id)
    await notes.delete_note(ALICE, note.id)
    clock.advance(timedelta(days=31))
    with SERVICE_STATEMENTS.paused():  # a sweep across owners: the rule's one exception
        assert await PurgeTrash(uow_factory, clock)() == 1
    async with uow_factory() as uow:
        assert await uow.shares.list(ALICE, note.id) == []
        assert await uow.links.list(ALICE, note.id) == []
