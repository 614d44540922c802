"""Errors raised when a domain rule is broken.

Every rule violation names the field it concerns, so an inbound adapter can tell the client
which part of its request was wrong without knowing the rules itself.
"""

from __future__ import annotations

__all__ = [
    "DomainError",
    "InvalidDescription",
    "InvalidNote",
    "InvalidPassword",
    "InvalidTags",
    "InvalidTitle",
    "InvalidUsername",
    "RuleViolation",
]


class DomainError(Exception):
    """Base of every error the domain raises."""


class RuleViolation(DomainError):
    """A value breaks one of the domain's rules.

    ``field`` is the name of the field as the API knows it (``title``, ``username``, …);
    ``index`` is the position of the offending item inside a list field, if any.
    """

    field: str = "value"

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.index = index


class InvalidNote(RuleViolation):
    """A note field breaks one of its rules."""

    field = "note"


class InvalidTitle(InvalidNote):
    field = "title"


class InvalidDescription(InvalidNote):
    field = "description"


class InvalidTags(InvalidNote):
    field = "tags"


class InvalidUsername(RuleViolation):
    field = "username"


class InvalidPassword(RuleViolation):
    field = "password"
