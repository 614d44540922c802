"""Errors raised when a domain rule is broken.

Every rule violation names the field it concerns, so an inbound adapter can tell the client
which part of its request was wrong without knowing the rules itself.
"""

from __future__ import annotations

__all__ = ["DomainError", "InvalidDescription", "InvalidNote", "InvalidTags", "InvalidTitle"]


class DomainError(Exception):
    """Base of every error the domain raises."""


class InvalidNote(DomainError):
    """A note field breaks one of its rules.

    ``field`` is the name of the field as the API knows it (``title``, ``description``,
    ``tags``); ``index`` is the position of the offending item inside a list field, if any.
    """

    field: str = "note"

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.index = index


class InvalidTitle(InvalidNote):
    field = "title"


class InvalidDescription(InvalidNote):
    field = "description"


class InvalidTags(InvalidNote):
    field = "tags"
