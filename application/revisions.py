"""Use cases for revisions and the trash: going back to an earlier version of a note, and
undoing (or making final) its deletion.

A restore is a write like any other: it locks the note, honours ``if_version``, makes a new
version, and that version is a revision too. A note in the trash is out of reach of every
note use case (``NoteNotFound``): it is listed, read, restored or deleted for good only
here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from application.errors import ApplicationError, NoteNotFound
from application.notes import allowed, locked_note, store_edit
from application.ports import Clock, UnitOfWorkFactory
from domain import Note
from domain.access import Action
from domain.revisions import DEFAULT_TRASH_RETENTION, Revision, RevisionPolicy, TrashedNote

__all__ = [
    "PurgeTrash",
    "RevisionNotFound",
    "RevisionPage",
    "Revisions",
    "Trash",
    "TrashPage",
]


class RevisionNotFound(ApplicationError):
    """The caller's note has no kept revision with this version."""

    def __init__(self, note_id: UUID, version: int) -> None:
        super().__init__(f"note {note_id} has no revision {version}")
        self.note_id = note_id
        self.version = version


@dataclass(frozen=True, slots=True)
class RevisionPage:
    """A page of revisions, newest first; ``next`` is the version the next page starts
    below, ``None`` on the last page."""

    revisions: list[Revision]
    next: int | None


@dataclass(frozen=True, slots=True)
class TrashPage:
    """A page of the trash, most recently deleted first; ``next`` is the ``(deleted_date,
    id)`` position the next page starts after, ``None`` on the last page."""

    notes: list[TrashedNote]
    next: tuple[datetime, UUID] | None


class Revisions:
    """A note's revisions: listing, reading, restoring."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        policy: RevisionPolicy | None = None,
        require_version: bool = False,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy if policy is not None else RevisionPolicy()
        self._require_version = require_version

    async def list_revisions(
        self, owner_id: UUID, note_id: UUID, *, limit: int = 100, before: int | None = None
    ) -> RevisionPage:
        """A page of the note's revisions, newest first; ``NoteNotFound`` if the owner has
        no such note (a trashed note included)."""
        async with self._uow() as uow:
            allowed(await uow.notes.visible(owner_id, note_id), note_id, Action.REVISIONS)
            found = await uow.revisions.list(owner_id, note_id, limit=limit + 1, before=before)
        page = found[:limit]
        more = len(found) > limit
        return RevisionPage(revisions=page, next=page[-1].version if more else None)

    async def get_revision(self, owner_id: UUID, note_id: UUID, version: int) -> Revision:
        """One revision of the owner's note; ``NoteNotFound`` or ``RevisionNotFound``."""
        async with self._uow() as uow:
            allowed(await uow.notes.visible(owner_id, note_id), note_id, Action.REVISIONS)
            revision = await uow.revisions.get(owner_id, note_id, version)
        if revision is None:
            raise RevisionNotFound(note_id, version)
        return revision

    async def restore_revision(
        self, owner_id: UUID, note_id: UUID, version: int, *, if_version: int | None = None
    ) -> Note:
        """Make that revision's content the note's current one, as a new version."""
        async with self._uow() as uow:
            note = await locked_note(
                uow,
                owner_id,
                note_id,
                if_version,
                require_version=self._require_version,
                action=Action.REVISIONS,
            )
            revision = await uow.revisions.get(owner_id, note_id, version)
            if revision is None:
                raise RevisionNotFound(note_id, version)
            new = revision.restored_onto(note, now=self._clock.now())
            await store_edit(uow, new, expected_version=note.version, policy=self._policy)
            await uow.commit()
        return new


class Trash:
    """The owner's deleted notes: listing, reading, restoring, deleting for good."""

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, *, policy: RevisionPolicy | None = None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy if policy is not None else RevisionPolicy()

    async def list_trash(
        self, owner_id: UUID, *, limit: int = 100, after: tuple[datetime, UUID] | None = None
    ) -> TrashPage:
        async with self._uow() as uow:
            found = await uow.trashed.list(owner_id, limit=limit + 1, after=after)
        page = found[:limit]
        more = len(found) > limit
        last = page[-1] if more else None
        return TrashPage(
            notes=page, next=None if last is None else (last.deleted_date, last.note.id)
        )

    async def get_trashed(self, owner_id: UUID, note_id: UUID) -> TrashedNote:
        """The owner's note in the trash; ``NoteNotFound`` if it is not there."""
        async with self._uow() as uow:
            trashed = await uow.trashed.get(owner_id, note_id)
        if trashed is None:
            raise NoteNotFound(note_id)
        return trashed

    async def restore(self, owner_id: UUID, note_id: UUID) -> Note:
        """Bring the note back from the trash, with its id, as a new version (a revision
        too); ``NoteNotFound`` if it is not in the trash."""
        async with self._uow() as uow:
            trashed = await uow.trashed.take(owner_id, note_id)
            if trashed is None:
                raise NoteNotFound(note_id)
            note = trashed.restored(now=self._clock.now())
            await uow.events.append(owner_id, note_id, "restored", note.version, note.updated_date)
            await uow.notes.add(note)
            await uow.revisions.prune(owner_id, note_id, self._policy.oldest_kept(note.version))
            await uow.commit()
        return note

    async def delete_for_good(self, owner_id: UUID, note_id: UUID) -> None:
        """Delete the note in the trash for good, with its revisions, shares and links;
        ``NoteNotFound`` if it is not in the trash."""
        async with self._uow() as uow:
            deleted = await uow.trashed.delete(owner_id, note_id)
            if deleted is None:
                raise NoteNotFound(note_id)
            await uow.events.append(
                owner_id, note_id, "purged", deleted.note.version, self._clock.now()
            )
            await uow.shares.delete_note(owner_id, note_id)
            await uow.links.delete_note(owner_id, note_id)
            await uow.commit()


class PurgeTrash:
    """``await purge()`` deletes for good, with their revisions, the notes that have been
    in the trash for longer than ``retention``; it answers how many. The sweep calls it."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        retention: timedelta = DEFAULT_TRASH_RETENTION,
    ) -> None:
        if retention <= timedelta(0):
            raise ValueError("the trash retention must be positive")
        self._uow = uow
        self._clock = clock
        self._retention = retention

    async def __call__(self) -> int:
        async with self._uow() as uow:
            now = self._clock.now()
            purged = await uow.trashed.purge(now - self._retention)
            for trashed in purged:
                note = trashed.note
                await uow.events.append(note.owner_id, note.id, "purged", note.version, now)
            await uow.commit()
        return len(purged)
