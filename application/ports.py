"""The ports: what the use cases need from the outside world, as small protocols.

Adapters implement these; the application never imports an adapter. Every repository method
runs inside the unit of work that handed the repository out.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from application.events import EventLog
from application.finding import NoteFilter, Order, Position, Ranked
from application.idempotency import IdempotencyRecord
from application.transfer import Transfer
from domain import Note, Password, User
from domain.access import SeenNote
from domain.personal_tokens import PersonalToken
from domain.revisions import Revision, TrashedNote
from domain.sessions import RefreshToken
from domain.sharing import Link, Share

__all__ = [
    "AccessTokens",
    "Clock",
    "CommonPasswords",
    "IdFactory",
    "IdempotencyKeys",
    "IssuedToken",
    "LinkRepository",
    "LoginFailures",
    "NoteRepository",
    "PasswordHasher",
    "PersonalTokenRepository",
    "RefreshTokenRepository",
    "Retention",
    "RevisionRepository",
    "ShareRepository",
    "Transfer",
    "TrashRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserRepository",
]


class NoteRepository(Protocol):
    """The stored notes, as seen from inside one unit of work.

    Every lookup is scoped to an owner: a note of another owner is not found, exactly as if
    it did not exist, so no caller can learn that it does.

    Reads see what was committed before them plus this unit of work's own writes, and
    never another unit of work's uncommitted writes. Writes take effect for others only
    when the unit of work commits. Adapters raise ``StorageUnavailable`` when the storage
    cannot be reached and ``Conflict`` when a write breaks a uniqueness rule; they raise
    nothing driver-specific. ``add``, ``add_many`` and ``update`` raise ``QuotaExceeded``
    (at the latest on ``commit()``) when the write would take the owner past the quota
    storage was given (``application.quota``).
    """

    async def add(self, note: Note) -> None:
        """Store a new note, and its version as a revision, in the same round trip where
        the storage allows. ``Conflict`` if a note with its id exists: raised here, or, by
        an adapter that sends a lone write with its commit, by the unit of work's next
        statement or ``commit()``."""
        ...

    async def add_many(self, notes: Sequence[Note]) -> None:
        """Store new notes, and their versions as revisions, in as few round trips as the
        storage allows (not one per note). ``Conflict`` if any id exists; then none of
        them is stored by this call."""
        ...

    async def get(self, owner_id: UUID, note_id: UUID, *, for_update: bool = False) -> Note | None:
        """The owner's note with this id, or ``None``.

        With ``for_update`` the note is locked until this unit of work ends: another unit
        of work that reads it for update, updates or deletes it waits until then, and then
        sees this one's outcome (``SELECT … FOR UPDATE``).
        """
        ...

    async def get_many(self, owner_id: UUID, note_ids: Sequence[UUID]) -> builtins.list[Note]:
        """The owner's notes among ``note_ids`` (at most 1,000), in no particular order; in
        one round trip."""
        ...

    async def visible(
        self, caller_id: UUID, note_id: UUID, *, for_update: bool = False
    ) -> SeenNote | None:
        """The note with this id as ``caller_id`` may see it, with the caller's relation
        to it: the caller's own note, or a note shared with the caller (through the
        grantee's share index, ``ShareRepository``); ``None`` if neither. One round trip;
        ``for_update`` locks the note as ``get`` does."""
        ...

    async def find_shared(
        self,
        grantee_id: UUID,
        where: NoteFilter,
        order: Order,
        *,
        limit: int,
        after: Position | None = None,
    ) -> builtins.list[Ranked]:
        """As ``find``, over the notes shared with ``grantee_id`` (not trashed), whoever
        owns them; keyset paging only."""
        ...

    async def list(self, owner_id: UUID, *, limit: int, skip: int = 0) -> list[Note]:
        """At most ``limit`` of the owner's notes after the first ``skip``, newest first
        (``created_date`` descending, then ``id`` descending)."""
        ...

    async def find(
        self,
        owner_id: UUID,
        where: NoteFilter,
        order: Order,
        *,
        limit: int,
        after: Position | None = None,
        skip: int = 0,
    ) -> builtins.list[Ranked]:
        """At most ``limit`` of the owner's notes that pass ``where``, in ``order``: those
        after ``after`` when given (keyset paging: what was inserted or deleted before that
        position does not shift the page), else after skipping ``skip``.

        Orders, each ending with ``id`` to break ties: ``created_desc`` (``created_date``
        descending), ``created_asc``, ``updated_desc``, and ``relevance`` (only with a
        search: the score descending, then ``created_date`` descending). Every backend
        returns the same notes in the same order, except that PostgreSQL scores relevance
        with ``ts_rank`` rather than ``domain.search.relevance``.
        """
        ...

    async def update(self, note: Note, *, expected_version: int, oldest_kept: int = 1) -> bool:
        """Replace the stored note that has ``note.id`` and ``note.owner_id`` with ``note``,
        but only if the stored one is at ``expected_version``; ``True`` if it was replaced.
        Then ``note``'s version is stored as a revision too, and the note's revisions
        older than ``oldest_kept`` are dropped, in the same round trip where the storage
        allows.

        The check and the write are one atomic step: of several units of work that update
        the same note from the same version, exactly one succeeds; the others get ``False``
        (after the winner commits, if it is still open).
        """
        ...

    async def update_and_commit(
        self, note: Note, *, expected_version: int, oldest_kept: int = 1
    ) -> bool:
        """``update``, then commit the unit of work if the note was replaced; ``False``
        (nothing written, nothing committed) if the stored note is no longer at
        ``expected_version``. Where the unit of work has written nothing yet, the storage
        may do both in one round trip, without holding any lock beyond it."""
        ...

    async def trash(
        self, owner_id: UUID, note_id: UUID, *, expected_version: int, at: datetime
    ) -> bool:
        """Move the owner's note, if it is at ``expected_version``, into the trash, deleted
        ``at``; ``True`` if it was moved. Its revisions stay. Atomic as ``update``."""
        ...

    async def delete(
        self, owner_id: UUID, note_id: UUID, *, expected_version: int | None = None
    ) -> bool:
        """Delete the owner's note, only if it is at ``expected_version`` when one is given;
        ``True`` if a note was deleted. Atomic in the same way as ``update``."""
        ...


class RevisionRepository(Protocol):
    """The kept versions of notes, stored by ``NoteRepository``'s writes; scoped to an
    owner as notes are."""

    async def list(
        self, owner_id: UUID, note_id: UUID, *, limit: int, before: int | None = None
    ) -> builtins.list[Revision]:
        """At most ``limit`` of the note's revisions, newest first; with ``before``, only
        the versions lower than it (keyset paging)."""
        ...

    async def get(self, owner_id: UUID, note_id: UUID, version: int) -> Revision | None: ...

    async def prune(self, owner_id: UUID, note_id: UUID, oldest_kept: int) -> None:
        """Drop the note's revisions older than version ``oldest_kept``."""
        ...


class TrashRepository(Protocol):
    """Deleted notes, scoped to an owner as notes are; ``NoteRepository.trash`` fills it."""

    async def list(
        self, owner_id: UUID, *, limit: int, after: tuple[datetime, UUID] | None = None
    ) -> builtins.list[TrashedNote]:
        """At most ``limit`` of the owner's trashed notes, most recently deleted first
        (``deleted_date`` descending, then id descending); with ``after`` (a
        ``(deleted_date, id)`` position), only those that come after it."""
        ...

    async def get(self, owner_id: UUID, note_id: UUID) -> TrashedNote | None: ...

    async def take(self, owner_id: UUID, note_id: UUID) -> TrashedNote | None:
        """Remove the note from the trash (its revisions stay) and return it; ``None`` if
        it is not there. Another unit of work taking or deleting it waits for this one's
        outcome, as with ``NoteRepository.get(for_update=True)``."""
        ...

    async def delete(self, owner_id: UUID, note_id: UUID) -> TrashedNote | None:
        """Delete the note for good, with its revisions; the note, or ``None`` if it was not
        in the trash."""
        ...

    async def purge(self, deleted_before: datetime) -> builtins.list[TrashedNote]:
        """Delete for good, with their revisions, every owner's notes trashed before
        ``deleted_before``; the notes deleted. A maintenance sweep across owners, not a
        request."""
        ...


class PersonalTokenRepository(Protocol):
    """Personal access tokens, scoped to their owner: found by ``(owner_id, id)``."""

    async def add(self, token: PersonalToken) -> None: ...

    async def get(self, owner_id: UUID, token_id: UUID) -> PersonalToken | None: ...

    async def list(self, owner_id: UUID) -> builtins.list[PersonalToken]:
        """The owner's tokens, newest first."""
        ...

    async def delete(self, owner_id: UUID, token_id: UUID) -> bool:
        """Forget the token; ``True`` if there was one."""
        ...

    async def record_use(self, owner_id: UUID, token_id: UUID, at: datetime) -> None:
        """Set ``last_used_date`` to ``at`` unless it was set less than
        ``domain.personal_tokens.USE_RECORDED_EVERY`` before (concurrent uses then write once)."""
        ...

    async def forget_expired(self, before: datetime) -> int:
        """Forget every owner's tokens that expired before ``before``; how many. A
        maintenance sweep across owners."""
        ...


class ShareRepository(Protocol):
    """Who each note is shared with. Stored twice, in one unit of work: by owner (the
    record, keyed by the owner's id) and by grantee (the index ``GET /shared/`` and
    ``NoteRepository.visible`` read, keyed by the grantee's id). Every write here changes
    both, so they never disagree once committed."""

    async def put(self, share: Share) -> Share:
        """Share the note with the grantee, or change the permission of an existing share
        (keeping its ``created_date``); the share as stored."""
        ...

    async def list(self, owner_id: UUID, note_id: UUID) -> builtins.list[Share]:
        """The note's shares, oldest first."""
        ...

    async def delete(self, owner_id: UUID, note_id: UUID, grantee_id: UUID) -> bool:
        """Stop sharing the note with the grantee; ``True`` if it was shared."""
        ...

    async def delete_note(self, owner_id: UUID, note_id: UUID) -> None:
        """Forget every share of the note (it is deleted for good)."""
        ...


class LinkRepository(Protocol):
    """Public links, keyed by the owner's id; found by the owner and the token's hash."""

    async def add(self, link: Link) -> None: ...

    async def list(self, owner_id: UUID, note_id: UUID) -> builtins.list[Link]:
        """The note's links, expired ones included, oldest first."""
        ...

    async def delete(self, owner_id: UUID, note_id: UUID, link_id: UUID) -> bool:
        """Revoke the link; ``True`` if the note had it."""
        ...

    async def delete_note(self, owner_id: UUID, note_id: UUID) -> None:
        """Forget every link of the note (it is deleted for good)."""
        ...

    async def note(self, owner_id: UUID, token_hash: str, now: datetime) -> Note | None:
        """The owner's note the link with this token hash opens, if the link works at
        ``now`` and the note is not in the trash; one round trip."""
        ...


class UserRepository(Protocol):
    """Registered users, inside a unit of work (same visibility rules as notes)."""

    async def add(self, user: User) -> None:
        """Store a new user. ``Conflict`` if the id or the username (by ``Username.key``)
        is taken; a concurrent unit of work adding the same username waits for the first
        one's outcome, as with a unique index."""
        ...

    async def get(self, user_id: UUID) -> User | None: ...

    async def get_by_username(self, key: str) -> User | None:
        """The user whose ``username.key`` is ``key``."""
        ...

    async def usernames(self, user_ids: Sequence[UUID]) -> dict[UUID, str]:
        """The usernames of the users with these ids (those that exist)."""
        ...


class RefreshTokenRepository(Protocol):
    """Refresh tokens, found among their user's by the hash of the token the client holds.

    Every method is scoped to one user: it reads, locks or changes that user's tokens only.
    """

    async def add(self, token: RefreshToken) -> None:
        """Store a new token. ``Conflict`` if the user has a token with its id or hash."""
        ...

    async def get_by_hash(
        self, user_id: UUID, token_hash: str, *, for_update: bool = False
    ) -> RefreshToken | None:
        """The user's token with this hash; ``for_update`` locks it as ``NoteRepository.get``
        does."""
        ...

    async def save(self, token: RefreshToken) -> None:
        """Store the new state (used, revoked) of an existing token of ``token.user_id``."""
        ...

    async def revoke_family(self, user_id: UUID, family_id: UUID, at: datetime) -> None:
        """Revoke every token of the user's family that is not revoked yet."""
        ...


class IdempotencyKeys(Protocol):
    """Used idempotency keys (``application.idempotency``), one row per owner and key."""

    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Store ``record`` (with the result of the write it is claimed for, made in the
        same unit of work) unless its owner already used its key; ``None`` when stored, else
        the stored record. A concurrent unit of work claiming the same key waits for this
        one to end, as on a unique index, and then sees its record."""
        ...

    async def forget_expired(self, owner_id: UUID, now: datetime) -> None:
        """Forget the owner's keys that expired before ``now``."""
        ...


class LoginFailures(Protocol):
    """Failed logins per username, kept in storage so that throttling holds across
    processes and restarts."""

    async def record(
        self, key: str, at: datetime, *, keep_since: datetime, client: str = ""
    ) -> None:
        """Record a failure (or an attempt not yet decided) from the client address
        ``client``, forgetting this username's failures older than ``keep_since``."""
        ...

    async def since(self, key: str, since: datetime) -> list[datetime]:
        """This username's failures at or after ``since``, oldest first."""
        ...

    async def attempts(self, key: str, since: datetime) -> list[tuple[datetime, str]]:
        """This username's failures at or after ``since`` with their client addresses,
        oldest first; what other units of work committed before this call included."""
        ...

    async def clear(self, key: str, *, client: str | None = None) -> None:
        """Forget this username's failures (only those from ``client``, when given)."""
        ...


class Retention(Protocol):
    """Forgets what has outlived its use, across every user: the sweep that keeps the
    bookkeeping tables bounded."""

    async def forget_login_failures(self, before: datetime) -> int:
        """Forget failed logins older than ``before``; how many were forgotten."""
        ...

    async def forget_refresh_tokens(self, expired_before: datetime) -> int:
        """Forget refresh tokens that expired before ``expired_before``."""
        ...

    async def forget_idempotency_keys(self, expired_before: datetime) -> int:
        """Forget idempotency keys that expired before ``expired_before``."""
        ...


class UnitOfWork(Protocol):
    """One transaction: an async context manager that hands out repositories.

    Nothing written through it is visible to other units of work until ``commit()``.
    Leaving the ``async with`` block without ``commit()`` (an exception included) rolls
    everything back. A unit of work is used once.
    """

    # Read-only properties rather than attributes, so that an adapter may declare its own
    # repository types there.
    @property
    def notes(self) -> NoteRepository: ...

    @property
    def revisions(self) -> RevisionRepository: ...

    @property
    def trashed(self) -> TrashRepository: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def shares(self) -> ShareRepository: ...

    @property
    def links(self) -> LinkRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...

    @property
    def login_failures(self) -> LoginFailures: ...

    @property
    def idempotency_keys(self) -> IdempotencyKeys: ...

    @property
    def retention(self) -> Retention: ...

    @property
    def events(self) -> EventLog: ...

    @property
    def personal_tokens(self) -> PersonalTokenRepository: ...

    @property
    def transfer(self) -> Transfer: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None:
        """Make every write of this unit of work durable and visible, all at once."""
        ...

    async def rollback(self) -> None:
        """Discard every write of this unit of work."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
"""Makes a new, not yet entered, unit of work."""


class Clock(Protocol):
    """The current time."""

    def now(self) -> datetime:
        """Now, as a timezone-aware UTC datetime."""
        ...


class IdFactory(Protocol):
    """New identifiers."""

    def new_id(self) -> UUID:
        """A new, unique, time-ordered id: ids made later sort later."""
        ...


class PasswordHasher(Protocol):
    """Slow, salted password hashing (Argon2id), off the event loop. Work is queued, and the
    queue is bounded: beyond it every method raises ``Overloaded`` at once. Work still queued
    when its caller is cancelled is dropped."""

    async def hash(self, password: Password) -> str: ...

    async def verify(self, password_hash: str, password: Password) -> bool: ...

    async def verify_nothing(self, password: Password) -> None:
        """Spend the time a ``verify`` takes, for a user that does not exist, so that the
        answer's timing does not tell which usernames are registered."""
        ...


class CommonPasswords(Protocol):
    """The passwords attackers try first (from breach corpora)."""

    def is_common(self, password: Password) -> bool: ...


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A signed access token and how many seconds it stays valid."""

    token: str
    expires_in: int


class AccessTokens(Protocol):
    """Short-lived, signed access tokens, checked without a storage round trip."""

    def issue(self, user_id: UUID, now: datetime) -> IssuedToken: ...

    def verify(self, token: str, now: datetime) -> UUID:
        """The user the token was issued to; ``NotAuthenticated`` if it is malformed,
        tampered with or expired."""
        ...
