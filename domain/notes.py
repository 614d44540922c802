"""The note: the one entity of the domain, and the value objects it is made of.

A note is immutable. Every change produces a new ``Note`` with ``version`` one higher and a
new ``updated_date``; the repository decides whether that new version may replace the one
stored. Time and identity come from outside (the application passes ``now`` and ``id``), so
the domain is deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID

from domain.errors import InvalidDescription, InvalidNote, InvalidTags, InvalidTitle
from domain.text import NOT_UNICODE, is_unicode

__all__ = [
    "MAX_DESCRIPTION_LENGTH",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "MAX_TITLE_LENGTH",
    "Description",
    "Note",
    "Tags",
    "Title",
]

MAX_TITLE_LENGTH: Final = 200
MAX_DESCRIPTION_LENGTH: Final = 100_000
MAX_TAGS: Final = 20
MAX_TAG_LENGTH: Final = 50
_TAG = re.compile(r"[a-z0-9_-]+")
# Text databases (PostgreSQL among them) cannot store the NUL character; no backend takes it.
_NO_NUL: Final = "must not contain the NUL character (U+0000)"


@dataclass(frozen=True, slots=True)
class Title:
    """A note's title: surrounding whitespace trimmed, then 1 to 200 characters of valid
    Unicode, none of them NUL."""

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise InvalidTitle("must be a string")
        trimmed = self.value.strip()
        if not trimmed:
            raise InvalidTitle("must not be empty or only whitespace")
        if len(trimmed) > MAX_TITLE_LENGTH:
            raise InvalidTitle(f"must be at most {MAX_TITLE_LENGTH} characters")
        if "\x00" in trimmed:
            raise InvalidTitle(_NO_NUL)
        if not is_unicode(trimmed):
            raise InvalidTitle(NOT_UNICODE)
        object.__setattr__(self, "value", trimmed)


@dataclass(frozen=True, slots=True)
class Description:
    """A note's body: any valid Unicode string of at most 100,000 characters without NUL,
    the empty string included."""

    value: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise InvalidDescription("must be a string")
        if len(self.value) > MAX_DESCRIPTION_LENGTH:
            raise InvalidDescription(f"must be at most {MAX_DESCRIPTION_LENGTH} characters")
        if "\x00" in self.value:
            raise InvalidDescription(_NO_NUL)
        if not is_unicode(self.value):
            raise InvalidDescription(NOT_UNICODE)


@dataclass(frozen=True, slots=True)
class Tags:
    """A note's tags, normalised: lower-cased, de-duplicated (first occurrence kept), at most
    20, each 1 to 50 characters of ``a-z``, ``0-9``, ``-`` and ``_``.

    Order is kept as given, so a client sees its tags back in the order it sent them.
    """

    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.values, str) or not isinstance(self.values, (tuple, list)):
            raise InvalidTags("must be a list of strings")
        seen: dict[str, None] = {}
        for index, raw in enumerate(self.values):
            if not isinstance(raw, str):
                raise InvalidTags("must be a string", index=index)
            tag = raw.lower()
            if not 1 <= len(tag) <= MAX_TAG_LENGTH:
                raise InvalidTags(f"must be 1 to {MAX_TAG_LENGTH} characters", index=index)
            if _TAG.fullmatch(tag) is None:
                raise InvalidTags(
                    "may contain only lower-case letters, digits, '-' and '_'", index=index
                )
            seen.setdefault(tag, None)
        if len(seen) > MAX_TAGS:
            raise InvalidTags(f"must hold at most {MAX_TAGS} distinct tags")
        object.__setattr__(self, "values", tuple(seen))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Note:
    """A note, as stored: identity, owner, content, and the bookkeeping that versions it.

    Equality is by identity (``id``), as for any entity; compare ``version`` to know whether
    two copies hold the same content.
    """

    id: UUID
    owner_id: UUID
    title: Title
    description: Description = field(default_factory=Description)
    tags: Tags = field(default_factory=Tags)
    created_date: datetime
    updated_date: datetime
    version: int = 1

    def __post_init__(self) -> None:
        for name in ("created_date", "updated_date"):
            moment = getattr(self, name)
            if moment.utcoffset() != timedelta(0):
                raise InvalidNote(f"{name} must be a timezone-aware UTC timestamp")
        if self.version < 1:
            raise InvalidNote("version starts at 1")
        if self.updated_date < self.created_date:
            raise InvalidNote("updated_date must not be earlier than created_date")

    @classmethod
    def create(
        cls,
        *,
        id: UUID,
        owner_id: UUID,
        title: Title,
        description: Description | None = None,
        tags: Tags | None = None,
        now: datetime,
    ) -> Note:
        """A new note of ``owner_id``'s at version 1, created and updated at ``now``."""
        return cls(
            id=id,
            owner_id=owner_id,
            title=title,
            description=description if description is not None else Description(),
            tags=tags if tags is not None else Tags(),
            created_date=now,
            updated_date=now,
        )

    @classmethod
    def restore(
        cls,
        *,
        id: UUID,
        owner_id: UUID,
        title: str,
        description: str,
        tags: Iterable[str],
        created_date: datetime,
        updated_date: datetime,
        version: int,
    ) -> Note:
        """A note rebuilt from the values a storage adapter wrote for it, without checking
        them again.

        Only for reading back what was stored: every one of these values went through the
        value objects' and the note's checks before it was written (``title`` trimmed, the
        ``tags`` normalised, the dates UTC), so checking each row of a page again on the
        way out would only cost time (a regex per tag). The note is equal, field for field,
        to the one the checked constructors build from the same values. Anything that
        comes from a client goes through ``Title``, ``Description``, ``Tags`` and
        ``create`` instead.
        """
        new, put = object.__new__, object.__setattr__
        note = new(cls)
        title_value = new(Title)
        put(title_value, "value", title)
        description_value = new(Description)
        put(description_value, "value", description)
        tags_value = new(Tags)
        put(tags_value, "values", tuple(tags))
        put(note, "id", id)
        put(note, "owner_id", owner_id)
        put(note, "title", title_value)
        put(note, "description", description_value)
        put(note, "tags", tags_value)
        put(note, "created_date", created_date)
        put(note, "updated_date", updated_date)
        put(note, "version", version)
        return note

    def edited(
        self,
        *,
        now: datetime,
        title: Title | None = None,
        description: Description | None = None,
        tags: Tags | None = None,
    ) -> Note:
        """This note with the given fields changed, one version later.

        Fields left as ``None`` keep their value. Every edit is a change, even one that sets a
        field to the value it had: the client asked for a write and sees it acknowledged.
        ``updated_date`` never moves backwards, even if the clock does.
        """
        return replace(
            self,
            title=title if title is not None else self.title,
            description=description if description is not None else self.description,
            tags=tags if tags is not None else self.tags,
            updated_date=max(now, self.updated_date),
            version=self.version + 1,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Note):
            return NotImplemented
        return self.id == other.id

    def __hash__(self) -> int:
        return hash(self.id)
