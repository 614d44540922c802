"""The notes domain: entities, value objects and their rules. Standard library only."""

from domain.errors import DomainError, InvalidDescription, InvalidNote, InvalidTags, InvalidTitle
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

__all__ = [
    "MAX_DESCRIPTION_LENGTH",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "MAX_TITLE_LENGTH",
    "Description",
    "DomainError",
    "InvalidDescription",
    "InvalidNote",
    "InvalidTags",
    "InvalidTitle",
    "Note",
    "Tags",
    "Title",
]
