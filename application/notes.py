"""Use cases for notes: what a user does with them.

Each use case runs in its own unit of work and commits only when everything it did
succeeded. A write to an existing note locks it on read, so concurrent writers queue up instead of
overwriting each other: ``version`` grows by exactly the number of writes that succeeded. A
caller that names the version it saw (``if_version``) gets ``PreconditionFailed`` when the
note has moved on, and nothing is written. The write itself is conditional on the version
read as well, so an adapter whose lock is weaker than promised fails loudly with
``Conflict`` rather than losing an update.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from application.errors import Conflict, NoteNotFound, PreconditionFailed
from application.finding import InvalidListing, NoteFilter, NotePage, NoteQuery
from application.ports import Clock, IdFactory, UnitOfWork, UnitOfWorkFactory
from domain import Description, InvalidTags, Note, Tags, Title
from domain.search import parse_query

__all__ = ["NoteChanges", "NoteDraft", "Notes"]


@dataclass(frozen=True, slots=True)
class NoteDraft:
    """The content of a note as a client gives it, before the domain checks it."""

    title: str
    description: str = ""
    tags: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class NoteChanges:
    """A partial change: the fields left as ``None`` stay as they are."""

    title: str | None = None
    description: str | None = None
    tags: Sequence[str] | None = None


class Notes:
    """The notes use cases, over a unit-of-work factory, a clock and an id factory."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, ids: IdFactory) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids

    async def create_note(self, owner_id: UUID, draft: NoteDraft) -> Note:
        """Create a note of ``owner_id``'s at version 1."""
        title, description, tags = (
            Title(draft.title),
            Description(draft.description),
            Tags(tuple(draft.tags)),
        )
        note = Note.create(
            id=self._ids.new_id(),
            owner_id=owner_id,
            title=title,
            description=description,
            tags=tags,
            now=self._clock.now(),
        )
        async with self._uow() as uow:
            await uow.notes.add(note)
            await uow.commit()
        return note

    async def get_note(self, owner_id: UUID, note_id: UUID) -> Note:
        """The owner's note, or ``NoteNotFound`` (also when another user owns it)."""
        async with self._uow() as uow:
            note = await uow.notes.get(owner_id, note_id)
        if note is None:
            raise NoteNotFound(note_id)
        return note

    async def list_notes(self, owner_id: UUID, *, limit: int = 100, skip: int = 0) -> list[Note]:
        """At most ``limit`` of the owner's notes after the first ``skip``, newest first."""
        async with self._uow() as uow:
            return await uow.notes.list(owner_id, limit=limit, skip=skip)

    async def find_notes(self, owner_id: UUID, query: NoteQuery) -> NotePage:
        """A page of the owner's notes, filtered by tags and search text, in the order asked
        for; ``RuleViolation`` for a search, tags or paging the rules refuse."""
        where = _filter_of(query)
        if query.order == "relevance" and where.search is None:
            raise InvalidListing("order", "relevance needs a search (q)")
        if query.after is not None and query.skip:
            raise InvalidListing("skip", "skip cannot be combined with a cursor")
        async with self._uow() as uow:
            found = await uow.notes.find(
                owner_id,
                where,
                query.order,
                limit=query.limit + 1,
                after=query.after,
                skip=query.skip,
            )
        page = found[: query.limit]
        more = len(found) > query.limit
        return NotePage(
            notes=[ranked.note for ranked in page],
            next=page[-1].position(query.order) if more else None,
        )

    async def replace_note(
        self, owner_id: UUID, note_id: UUID, draft: NoteDraft, *, if_version: int | None = None
    ) -> Note:
        """Replace title, description and tags (a PUT)."""
        title, description, tags = (
            Title(draft.title),
            Description(draft.description),
            Tags(tuple(draft.tags)),
        )

        def change(note: Note) -> Note:
            return note.edited(
                now=self._clock.now(), title=title, description=description, tags=tags
            )

        return await self._write(owner_id, note_id, change, if_version)

    async def patch_note(
        self, owner_id: UUID, note_id: UUID, changes: NoteChanges, *, if_version: int | None = None
    ) -> Note:
        """Change only the fields given (a PATCH)."""
        title = Title(changes.title) if changes.title is not None else None
        description = Description(changes.description) if changes.description is not None else None
        tags = Tags(tuple(changes.tags)) if changes.tags is not None else None

        def change(note: Note) -> Note:
            return note.edited(
                now=self._clock.now(), title=title, description=description, tags=tags
            )

        return await self._write(owner_id, note_id, change, if_version)

    async def delete_note(
        self, owner_id: UUID, note_id: UUID, *, if_version: int | None = None
    ) -> None:
        """Delete the owner's note; ``NoteNotFound`` if there is none."""
        async with self._uow() as uow:
            note = await self._locked(uow, owner_id, note_id, if_version)
            if not await uow.notes.delete(owner_id, note_id, expected_version=note.version):
                raise Conflict(f"note {note_id} changed while locked")
            await uow.commit()

    async def _write(
        self,
        owner_id: UUID,
        note_id: UUID,
        change: Callable[[Note], Note],
        if_version: int | None,
    ) -> Note:
        async with self._uow() as uow:
            note = await self._locked(uow, owner_id, note_id, if_version)
            new = change(note)
            if not await uow.notes.update(new, expected_version=note.version):
                raise Conflict(f"note {note_id} changed while locked")
            await uow.commit()
        return new

    @staticmethod
    async def _locked(
        uow: UnitOfWork, owner_id: UUID, note_id: UUID, if_version: int | None
    ) -> Note:
        """The owner's note, locked for this unit of work, at the version the caller expects."""
        note = await uow.notes.get(owner_id, note_id, for_update=True)
        if note is None:
            raise NoteNotFound(note_id)
        if if_version is not None and note.version != if_version:
            raise PreconditionFailed(note_id, if_version, note.version)
        return note


def _filter_of(query: NoteQuery) -> NoteFilter:
    try:
        tags = Tags(tuple(query.tags)).values
    except InvalidTags as broken:
        raise InvalidListing("tag", broken.message) from broken
    search = parse_query(query.text) if query.text else None
    return NoteFilter(tags=tags, search=search)
