"""The application layer: use cases and the ports they need. Imports only the domain."""

from application.accounts import Accounts, LoginPolicy, Session
from application.errors import (
    ApplicationError,
    Conflict,
    InvalidCredentials,
    NotAuthenticated,
    NoteNotFound,
    PreconditionFailed,
    StorageUnavailable,
    TooManyAttempts,
    UsernameTaken,
)
from application.notes import NoteChanges, NoteDraft, Notes
from application.ports import (
    AccessTokens,
    Clock,
    IdFactory,
    IssuedToken,
    LoginFailures,
    NoteRepository,
    PasswordHasher,
    RefreshTokenRepository,
    UnitOfWork,
    UnitOfWorkFactory,
    UserRepository,
)

__all__ = [
    "AccessTokens",
    "Accounts",
    "ApplicationError",
    "Clock",
    "Conflict",
    "IdFactory",
    "InvalidCredentials",
    "IssuedToken",
    "LoginFailures",
    "LoginPolicy",
    "NotAuthenticated",
    "NoteChanges",
    "NoteDraft",
    "NoteNotFound",
    "NoteRepository",
    "Notes",
    "PasswordHasher",
    "PreconditionFailed",
    "RefreshTokenRepository",
    "Session",
    "StorageUnavailable",
    "TooManyAttempts",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserRepository",
    "UsernameTaken",
]
