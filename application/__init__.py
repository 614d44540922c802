"""The application layer: use cases and the ports they need. Imports only the domain."""

from application.errors import (
    ApplicationError,
    Conflict,
    NoteNotFound,
    PreconditionFailed,
    StorageUnavailable,
)
from application.notes import NoteChanges, NoteDraft, Notes
from application.ports import Clock, IdFactory, NoteRepository, UnitOfWork, UnitOfWorkFactory

__all__ = [
    "ApplicationError",
    "Clock",
    "Conflict",
    "IdFactory",
    "NoteChanges",
    "NoteDraft",
    "NoteNotFound",
    "NoteRepository",
    "Notes",
    "PreconditionFailed",
    "StorageUnavailable",
    "UnitOfWork",
    "UnitOfWorkFactory",
]
