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

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final
from uuid import UUID

from application.errors import (
    Conflict,
    NoteNotFound,
    NotPermitted,
    PreconditionFailed,
    VersionRequired,
)
from application.finding import InvalidListing, NoteFilter, NotePage, NoteQuery, Position
from application.idempotency import (
    IdempotencyKeyReused,
    IdempotencyRecord,
    check_key,
    fingerprint,
    notes_from_result,
    result_of,
)
from application.ports import Clock, IdFactory, UnitOfWork, UnitOfWorkFactory
from domain import Description, InvalidTags, Note, RuleViolation, Tags, Title
from domain.access import Action, Decision, SeenNote, decide
from domain.revisions import RevisionPolicy
from domain.search import parse_query

__all__ = [
    "MAX_IMPORT",
    "InvalidImport",
    "InvalidImportedNote",
    "NoteChanges",
    "NoteDraft",
    "Notes",
    "allowed",
    "filter_of",
    "locked_note",
    "store_edit",
]

MAX_IMPORT: Final = 1000


class InvalidImport(RuleViolation):
    """An import as a whole breaks a rule (it holds no notes, or too many)."""

    field = "notes"


class InvalidImportedNote(RuleViolation):
    """One note of an import breaks a rule: ``note_index`` says which, ``field`` (and
    ``index``, in a list field) what; nothing of the import was created."""

    def __init__(self, note_index: int, broken: RuleViolation) -> None:
        super().__init__(broken.message, index=broken.index)
        self.note_index = note_index
        self.field = broken.field


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

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        ids: IdFactory,
        *,
        idempotency_ttl: timedelta = timedelta(hours=24),
        require_version: bool = False,
        revisions: RevisionPolicy | None = None,
    ) -> None:
        """With ``require_version``, every change or deletion of an existing note must name
        the version it was based on (``VersionRequired`` otherwise). ``revisions`` says how
        many revisions each write keeps."""
        self._require_version = require_version
        self._revisions = revisions if revisions is not None else RevisionPolicy()
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._idempotency_ttl = idempotency_ttl

    async def create_note(
        self, owner_id: UUID, draft: NoteDraft, *, idempotency_key: str | None = None
    ) -> Note:
        """Create a note of ``owner_id``'s at version 1. With an idempotency key, a retry of
        the same request returns the note the first one created, and creates nothing."""
        note = self._new_note(owner_id, draft)
        [created] = await self._add(owner_id, [note], "create", [draft], idempotency_key)
        return created

    async def import_notes(
        self, owner_id: UUID, drafts: Sequence[NoteDraft], *, idempotency_key: str | None = None
    ) -> list[Note]:
        """Create up to ``MAX_IMPORT`` notes, all or none. ``InvalidImportedNote`` names the
        first draft that breaks a rule; nothing is created then, nor when storage fails
        half-way."""
        if not 1 <= len(drafts) <= MAX_IMPORT:
            raise InvalidImport(f"an import holds 1 to {MAX_IMPORT} notes")
        notes = []
        for index, draft in enumerate(drafts):
            try:
                notes.append(self._new_note(owner_id, draft))
            except RuleViolation as broken:
                raise InvalidImportedNote(index, broken) from broken
        return await self._add(owner_id, notes, "import", drafts, idempotency_key)

    async def export_notes(self, owner_id: UUID, *, page: int = 500) -> AsyncIterator[list[Note]]:
        """Every note of the owner, oldest first, a page at a time: each page is read in a
        unit of work of its own when the caller asks for it, so exporting holds no
        transaction open and keeps one page in memory however many notes there are."""
        after: Position | None = None
        while True:
            async with self._uow() as uow:
                found = await uow.notes.find(
                    owner_id, NoteFilter(), "created_asc", limit=page, after=after
                )
            if not found:
                return
            yield [ranked.note for ranked in found]
            if len(found) < page:
                return
            after = found[-1].position("created_asc")

    def _new_note(self, owner_id: UUID, draft: NoteDraft) -> Note:
        return Note.create(
            id=self._ids.new_id(),
            owner_id=owner_id,
            title=Title(draft.title),
            description=Description(draft.description),
            tags=Tags(tuple(draft.tags)),
            now=self._clock.now(),
        )

    async def _add(
        self,
        owner_id: UUID,
        notes: list[Note],
        operation: str,
        drafts: Sequence[NoteDraft],
        idempotency_key: str | None,
    ) -> list[Note]:
        """Store new notes in one unit of work; with a key, claim it in the same one."""
        async with self._uow() as uow:
            if idempotency_key is not None:
                now = self._clock.now()
                record = IdempotencyRecord(
                    owner_id=owner_id,
                    key=check_key(idempotency_key),
                    fingerprint=fingerprint(
                        operation, [(d.title, d.description, tuple(d.tags)) for d in drafts]
                    ),
                    result=result_of(notes),
                    created_at=now,
                    expires_at=now + self._idempotency_ttl,
                )
                await uow.idempotency_keys.forget_expired(owner_id, now)
                earlier = await uow.idempotency_keys.claim(record)
                if earlier is not None:
                    if earlier.fingerprint != record.fingerprint:
                        raise IdempotencyKeyReused(
                            "this Idempotency-Key was used with a different request"
                        )
                    return notes_from_result(earlier.result)
            for note in notes:
                await uow.events.append(
                    owner_id, note.id, "created", note.version, note.created_date
                )
            if len(notes) == 1:
                await uow.notes.add(notes[0])
            else:
                await uow.notes.add_many(notes)
            await uow.commit()
        return notes

    async def get_note(self, caller_id: UUID, note_id: UUID) -> Note:
        """The note, if the caller owns it or it is shared with them; ``NoteNotFound``
        otherwise."""
        return (await self.read_note(caller_id, note_id)).note

    async def read_note(self, caller_id: UUID, note_id: UUID) -> SeenNote:
        """``get_note``, with the caller's relation to the note."""
        async with self._uow() as uow:
            seen = await uow.notes.visible(caller_id, note_id)
        allowed(seen, note_id, Action.READ)
        assert seen is not None
        return seen

    async def list_notes(self, owner_id: UUID, *, limit: int = 100, skip: int = 0) -> list[Note]:
        """At most ``limit`` of the owner's notes after the first ``skip``, newest first."""
        async with self._uow() as uow:
            return await uow.notes.list(owner_id, limit=limit, skip=skip)

    async def find_notes(self, owner_id: UUID, query: NoteQuery) -> NotePage:
        """A page of the owner's notes, filtered by tags and search text, in the order asked
        for; ``RuleViolation`` for a search, tags or paging the rules refuse."""
        where = filter_of(query)
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
        self, caller_id: UUID, note_id: UUID, *, if_version: int | None = None
    ) -> None:
        """Move the caller's note to the trash (where only its owner sees it);
        ``NoteNotFound`` if there is none, ``NotPermitted`` for a note shared with them."""
        async with self._uow() as uow:
            note = await self._locked(uow, caller_id, note_id, if_version, Action.DELETE)
            now = self._clock.now()
            await uow.events.append(note.owner_id, note_id, "deleted", note.version, now)
            if not await uow.notes.trash(
                note.owner_id, note_id, expected_version=note.version, at=now
            ):
                raise Conflict(f"note {note_id} changed while locked")
            await uow.commit()

    async def _write(
        self,
        owner_id: UUID,
        note_id: UUID,
        change: Callable[[Note], Note],
        if_version: int | None,
    ) -> Note:
        """Change the note as it is read, and store the change if no one else changed the
        note meanwhile (no lock held while ``change`` runs). A writer that lost that race
        tries once more holding the note's lock, so it cannot lose again."""
        require(if_version, require_version=self._require_version)
        async with self._uow() as uow:
            seen = await uow.notes.visible(owner_id, note_id)
            note = checked_note(seen, note_id, if_version, Action.WRITE)
            new = change(note)
            await record_edit(uow, new)
            if await uow.notes.update_and_commit(
                new,
                expected_version=note.version,
                oldest_kept=self._revisions.oldest_kept(new.version),
            ):
                return new
        async with self._uow() as uow:
            note = await self._locked(uow, owner_id, note_id, if_version, Action.WRITE)
            new = change(note)
            await store_edit(uow, new, expected_version=note.version, policy=self._revisions)
            await uow.commit()
        return new

    async def _locked(
        self,
        uow: UnitOfWork,
        caller_id: UUID,
        note_id: UUID,
        if_version: int | None,
        action: Action,
    ) -> Note:
        return await locked_note(
            uow,
            caller_id,
            note_id,
            if_version,
            require_version=self._require_version,
            action=action,
        )


def allowed(seen: SeenNote | None, note_id: UUID, action: Action) -> Note:
    """The note, if ``domain.access.decide`` lets the caller who sees it as ``seen`` do
    ``action``; ``NoteNotFound`` if the rule hides it, ``NotPermitted`` if it forbids."""
    decision = decide(seen.relation, action) if seen is not None else Decision.HIDDEN
    if decision is Decision.HIDDEN or seen is None:
        raise NoteNotFound(note_id)
    if decision is Decision.FORBIDDEN:
        raise NotPermitted(note_id, action.value)
    return seen.note


async def locked_note(
    uow: UnitOfWork,
    caller_id: UUID,
    note_id: UUID,
    if_version: int | None,
    *,
    require_version: bool,
    action: Action = Action.WRITE,
) -> Note:
    """The note, locked for this unit of work, at the version the caller expects, if the
    caller may do ``action`` to it. The note keeps its owner: a grantee's write is a write
    to the owner's note."""
    require(if_version, require_version=require_version)
    seen = await uow.notes.visible(caller_id, note_id, for_update=True)
    return checked_note(seen, note_id, if_version, action)


def require(if_version: int | None, *, require_version: bool) -> None:
    """``VersionRequired`` if writes must name the version they change and this does not."""
    if if_version is None and require_version:
        raise VersionRequired("writes to a note must name the version they change")


def checked_note(
    seen: SeenNote | None, note_id: UUID, if_version: int | None, action: Action
) -> Note:
    """The note seen, if the caller may do ``action`` to it and it is at the version the
    caller expects."""
    note = allowed(seen, note_id, action)
    if if_version is not None and note.version != if_version:
        raise PreconditionFailed(note_id, if_version, note.version)
    return note


async def record_edit(uow: UnitOfWork, new: Note) -> None:
    """Record the edit that makes ``new`` in the event log (before the write, so that an
    adapter may send the event with it)."""
    await uow.events.append(new.owner_id, new.id, "updated", new.version, new.updated_date)


async def store_edit(
    uow: UnitOfWork, new: Note, *, expected_version: int, policy: RevisionPolicy
) -> None:
    """Store ``new`` over the version it was made from, keeping it as a revision and
    dropping the revisions ``policy`` does not keep, and record the change in the event log
    (appended first, so that an adapter may send it with the write)."""
    await record_edit(uow, new)
    if not await uow.notes.update(
        new, expected_version=expected_version, oldest_kept=policy.oldest_kept(new.version)
    ):
        raise Conflict(f"note {new.id} changed while locked")


def filter_of(query: NoteQuery) -> NoteFilter:
    """The filter of a listing request; ``InvalidListing`` for tags the rules refuse."""
    try:
        tags = Tags(tuple(query.tags)).values
    except InvalidTags as broken:
        raise InvalidListing("tag", broken.message) from broken
    search = parse_query(query.text) if query.text else None
    return NoteFilter(tags=tags, search=search)
