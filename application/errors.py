"""Errors the use cases raise, and the port-level errors adapters translate driver errors into.

The inbound adapters map each of these to a response in one place; nothing below the
entrypoints knows about HTTP.
"""

from __future__ import annotations

from uuid import UUID

__all__ = [
    "ApplicationError",
    "Conflict",
    "InvalidCredentials",
    "InvalidData",
    "NotAuthenticated",
    "NotPermitted",
    "NoteNotFound",
    "OutcomeUnknown",
    "Overloaded",
    "PreconditionFailed",
    "QuotaExceeded",
    "SchemaOutdated",
    "StorageUnavailable",
    "TooManyAttempts",
    "UsernameTaken",
    "VersionRequired",
]


class ApplicationError(Exception):
    """Base of every error a use case or a port raises on purpose."""


class NoteNotFound(ApplicationError):
    """No note with this id is visible to the caller."""

    def __init__(self, note_id: UUID) -> None:
        super().__init__(f"note {note_id} not found")
        self.note_id = note_id


class NotPermitted(ApplicationError):
    """The caller sees the note but may not do this to it (a write through a read-only
    share, a grantee's deletion): ``domain.access.decide`` said ``FORBIDDEN``."""

    def __init__(self, note_id: UUID, action: str) -> None:
        super().__init__(f"you may not {action} note {note_id}")
        self.note_id = note_id
        self.action = action


class PreconditionFailed(ApplicationError):
    """A conditional write named a version that is no longer the note's current one."""

    def __init__(self, note_id: UUID, expected: int, actual: int | None) -> None:
        super().__init__(f"note {note_id} is at version {actual}, not {expected}")
        self.note_id = note_id
        self.expected = expected
        self.actual = actual


class VersionRequired(ApplicationError):
    """Writes must name the version they change (``if_version``) and this one did not."""


class Conflict(ApplicationError):
    """The write collides with the stored state (a uniqueness rule, or a write that kept
    losing races to concurrent writers); retrying the request later may succeed."""


class StorageUnavailable(ApplicationError):
    """The storage cannot be reached or did not answer in time. The operation had no effect
    (unless it is ``OutcomeUnknown``).

    ``reason``, for operators' logs, is what the adapter says of the cause: the driver's
    error class and message, never a statement's values.
    """

    def __init__(self, message: str = "the storage is unavailable", *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class OutcomeUnknown(StorageUnavailable):
    """A write reached the storage, and the connection was lost before its outcome was
    known: it may or may not have taken effect. Retrying it with the same idempotency key
    is safe."""


class SchemaOutdated(StorageUnavailable):
    """The database's schema is behind the service's migrations (or was never made): it
    must be upgraded before the service can use it."""


class InvalidData(ApplicationError):
    """The storage refused a value as invalid for its type (a number out of range, text it
    cannot hold): the client's mistake; nothing was written."""


class Overloaded(ApplicationError):
    """Too much slow work (password hashing) is already queued; nothing was done. Retrying
    shortly may succeed."""


class InvalidCredentials(ApplicationError):
    """The username and password do not match a user. Says nothing about which was wrong."""


class NotAuthenticated(ApplicationError):
    """No valid credentials came with the request: none, malformed, expired, tampered with,
    or revoked."""


class UsernameTaken(ApplicationError):
    """Another user has this username (compared without regard to case)."""


class TooManyAttempts(ApplicationError):
    """Too many failed logins for this username (or attempts from this client address)
    lately; ``retry_after`` seconds until the next attempt is considered."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after} s")
        self.retry_after = retry_after


class QuotaExceeded(ApplicationError):
    """The write would take the owner past their quota (``what``: ``notes`` or
    ``stored bytes``); nothing changed."""

    def __init__(self, what: str) -> None:
        super().__init__(f"this account has reached its quota of {what}; nothing changed")
        self.what = what
