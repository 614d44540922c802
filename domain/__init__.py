"""The notes domain: entities, value objects and their rules. Standard library only."""

from domain.errors import (
    DomainError,
    InvalidDescription,
    InvalidNote,
    InvalidPassword,
    InvalidTags,
    InvalidTitle,
    InvalidUsername,
    RuleViolation,
)
from domain.notes import (
    MAX_DESCRIPTION_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TITLE_LENGTH,
    Description,
    Note,
    Tags,
    Title,
)
from domain.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, Password, User, Username

__all__ = [
    "MAX_DESCRIPTION_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "MAX_TITLE_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "Description",
    "DomainError",
    "InvalidDescription",
    "InvalidNote",
    "InvalidPassword",
    "InvalidTags",
    "InvalidTitle",
    "InvalidUsername",
    "Note",
    "Password",
    "RuleViolation",
    "Tags",
    "Title",
    "User",
    "Username",
]
