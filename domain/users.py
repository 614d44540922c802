"""Users: who owns notes. A user has a username, unique regardless of case, and a password
the domain checks but never keeps: only its hash (made by an adapter) is stored."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID

from domain.errors import InvalidPassword, InvalidUsername, RuleViolation
from domain.text import NOT_UNICODE, is_unicode

__all__ = ["MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "Password", "User", "Username"]

MIN_USERNAME_LENGTH: Final = 3
MAX_USERNAME_LENGTH: Final = 50
MIN_PASSWORD_LENGTH: Final = 8
MAX_PASSWORD_LENGTH: Final = 128
_USERNAME = re.compile(r"[A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Username:
    """3 to 50 characters of ASCII letters, digits, ``.``, ``_`` and ``-``, kept as written;
    ``key`` is the lower-cased form two usernames are compared by."""

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise InvalidUsername("must be a string")
        if not MIN_USERNAME_LENGTH <= len(self.value) <= MAX_USERNAME_LENGTH:
            raise InvalidUsername(
                f"must be {MIN_USERNAME_LENGTH} to {MAX_USERNAME_LENGTH} characters"
            )
        if _USERNAME.fullmatch(self.value) is None:
            raise InvalidUsername("may contain only letters, digits, '.', '_' and '-'")

    @property
    def key(self) -> str:
        return self.value.lower()


@dataclass(frozen=True, slots=True)
class Password:
    """A password as typed: 8 to 128 characters of valid Unicode, no composition rules.
    Its text never appears in a ``repr`` or a log line."""

    secret: str

    def __post_init__(self) -> None:
        if not isinstance(self.secret, str):
            raise InvalidPassword("must be a string")
        if not MIN_PASSWORD_LENGTH <= len(self.secret) <= MAX_PASSWORD_LENGTH:
            raise InvalidPassword(
                f"must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
            )
        if not is_unicode(self.secret):
            raise InvalidPassword(NOT_UNICODE)

    def __repr__(self) -> str:
        return "Password('********')"

    __str__ = __repr__


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class User:
    """A registered user. ``password_hash`` is opaque to the domain."""

    id: UUID
    username: Username
    password_hash: str
    created_date: datetime

    def __post_init__(self) -> None:
        if self.created_date.utcoffset() != timedelta(0):
            raise RuleViolation("created_date must be a timezone-aware UTC timestamp")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, User):
            return NotImplemented
        return self.id == other.id

    def __hash__(self) -> int:
        return hash(self.id)
