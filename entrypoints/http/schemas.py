"""The JSON shapes of the notes API, and their mapping to and from the core's objects.

Request schemas check only shape and types, strictly: a number where a string belongs is an
error, not converted, and unknown fields are refused. The note's rules (trimming, lengths,
the tag alphabet) belong to the domain, which raises ``InvalidNote`` naming the field; the
limits appear here only as documentation, taken from the domain's constants so the two
cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError, to_json

from application import NoteChanges, NoteDraft
from domain import MAX_DESCRIPTION_LENGTH, MAX_TAG_LENGTH, MAX_TAGS, MAX_TITLE_LENGTH, Note

__all__ = [
    "NoteCreate",
    "NotePatch",
    "NotePublic",
    "NoteReplace",
    "Problem",
    "ProblemError",
    "note_json",
    "notes_json",
    "public_fields",
]

TITLE_DOC = f"Surrounding whitespace is trimmed; then 1 to {MAX_TITLE_LENGTH:,} characters."
DESCRIPTION_DOC = f"Any text of at most {MAX_DESCRIPTION_LENGTH:,} characters; may be empty."
TAGS_DOC = (
    f"At most {MAX_TAGS} distinct tags, each 1 to {MAX_TAG_LENGTH} characters of lower-case "
    "letters, digits, `-` and `_`. Tags are lower-cased and de-duplicated, keeping the order "
    "they were sent in."
)

_EXAMPLE_CONTENT: dict[str, Any] = {
    "title": "Groceries",
    "description": "milk, eggs, sourdough",
    "tags": ["home", "weekly"],
}
_REQUEST = ConfigDict(strict=True, extra="forbid")


class _NoteContent(BaseModel):
    model_config = _REQUEST | ConfigDict(json_schema_extra={"examples": [_EXAMPLE_CONTENT]})

    title: str = Field(description=f"Required. {TITLE_DOC}")
    description: str = Field(default="", description=DESCRIPTION_DOC)
    tags: list[str] = Field(default_factory=list, description=TAGS_DOC)

    def to_draft(self) -> NoteDraft:
        return NoteDraft(title=self.title, description=self.description, tags=tuple(self.tags))


class NoteCreate(_NoteContent):
    """A new note. `description` defaults to `""` and `tags` to `[]`."""


class NoteReplace(_NoteContent):
    """A note's whole content, replacing what it had: a field left out takes its default
    (`description` `""`, `tags` `[]`), as on creation."""


def _omit_default(schema: dict[str, Any]) -> None:
    """A patch field has no default to document: left out, it keeps the note's value."""
    schema.pop("default", None)


class NotePatch(BaseModel):
    """A partial change: only the fields sent change. Send at least one; none may be `null`."""

    model_config = _REQUEST | ConfigDict(
        json_schema_extra={"examples": [{"title": "Groceries for Sunday"}, {"tags": ["home"]}]}
    )

    title: str | SkipJsonSchema[None] = Field(
        default=None, description=TITLE_DOC, json_schema_extra=_omit_default
    )
    description: str | SkipJsonSchema[None] = Field(
        default=None, description=DESCRIPTION_DOC, json_schema_extra=_omit_default
    )
    tags: list[str] | SkipJsonSchema[None] = Field(
        default=None, description=TAGS_DOC, json_schema_extra=_omit_default
    )

    @field_validator("title", "description", "tags")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields that were sent: a field left out keeps its value, an explicit
        # null is a mistake rather than a way to clear a field.
        if value is None:
            raise PydanticCustomError("not_null", "may be left out, but may not be null")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.model_fields_set:
            raise PydanticCustomError(
                "empty_patch", "must change at least one of title, description and tags"
            )
        return self

    def to_changes(self) -> NoteChanges:
        return NoteChanges(
            title=self.title,
            description=self.description,
            tags=tuple(self.tags) if self.tags is not None else None,
        )


class NotePublic(BaseModel):
    """A stored note."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e11",
                    **_EXAMPLE_CONTENT,
                    "created_date": "2026-11-22T10:15:00.123456Z",
                    "updated_date": "2026-11-22T10:15:00.123456Z",
                    "version": 1,
                    "owner": "alice",
                }
            ]
        }
    )

    id: UUID = Field(description="Chosen by the service; later notes have later ids.")
    title: str = Field(description=f"Trimmed, 1 to {MAX_TITLE_LENGTH} characters.")
    description: str
    tags: list[str] = Field(description="Lower-case, distinct, in the order they were sent.")
    created_date: datetime = Field(description="When the note was created (UTC, ISO 8601).")
    updated_date: datetime = Field(description="When the note last changed (UTC, ISO 8601).")
    version: int = Field(
        description="1 on creation, one more on every change; the note's `ETag` is this number."
    )
    owner: str = Field(description="The username of the note's owner.")

    @classmethod
    def from_note(cls, note: Note, owner: str) -> NotePublic:
        """The note's public form. Not validated again: a ``Note`` already keeps its rules."""
        return cls.model_construct(
            id=note.id,
            title=note.title.value,
            description=note.description.value,
            tags=list(note.tags.values),
            created_date=note.created_date,
            updated_date=note.updated_date,
            version=note.version,
            owner=owner,
        )


def public_fields(note: Note, owner: str) -> dict[str, Any]:
    """The fields of ``NotePublic``, in its order, as plain values.

    pydantic-core writes a ``uuid.UUID`` itself, but a subclass (the UUIDs asyncpg returns)
    through a slow generic path: those are turned into text first, by their own fast
    ``__str__``, which halves the time to serialise a page of them."""
    return {
        "id": note.id if type(note.id) is UUID else str(note.id),
        "title": note.title.value,
        "description": note.description.value,
        "tags": list(note.tags.values),
        "created_date": note.created_date,
        "updated_date": note.updated_date,
        "version": note.version,
        "owner": owner,
    }


def note_json(note: Note, owner: str) -> bytes:
    """The note as the JSON body of a response: ``NotePublic``'s shape, byte for byte.

    A plain dictionary through pydantic-core's serializer rather than a ``NotePublic``:
    building a model for each note cost more than writing its JSON (a third of the
    serialisation of a page of 50)."""
    return to_json(public_fields(note, owner))


def notes_json(notes: list[Note], owners: Mapping[UUID, str]) -> bytes:
    """The notes as a JSON array, in the order given; ``owners`` names each owner by id."""
    return to_json([public_fields(note, owners[note.owner_id]) for note in notes])


class ProblemError(BaseModel):
    """One thing wrong with a request."""

    loc: list[str | int] = Field(
        description="Where: `body`, `path`, `query` or `header`, then field names and list "
        "indexes.",
        examples=[["body", "tags", 2]],
    )
    msg: str = Field(examples=["may contain only lower-case letters, digits, '-' and '_'"])


class Problem(BaseModel):
    """An error, as RFC 9457 `application/problem+json`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:notes-service:problem:invalid-note",
                    "title": "Invalid note",
                    "status": 422,
                    "detail": "tags[2]: may contain only lower-case letters, digits, '-' and '_'",
                    "errors": [
                        {
                            "loc": ["body", "tags", 2],
                            "msg": "may contain only lower-case letters, digits, '-' and '_'",
                        }
                    ],
                }
            ]
        }
    )

    MEDIA_TYPE: ClassVar[str] = "application/problem+json"

    type: str = Field(
        description="A URI naming the kind of problem; `about:blank` when the "
        "status code says it all."
    )
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request.")
    errors: list[ProblemError] | SkipJsonSchema[None] = Field(
        default=None,
        description="On validation failures: every offending field.",
        json_schema_extra=_omit_default,
    )
