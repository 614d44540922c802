"""What the revision and trash routes answer: revisions, and notes in the trash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from pydantic_core import to_json

from domain.revisions import Revision, TrashedNote
from entrypoints.http.schemas import NotePublic, note_json

__all__ = ["RevisionPublic", "TrashedNotePublic", "revision_json", "revisions_json", "trashed_json"]


class RevisionPublic(BaseModel):
    """One version of a note, as it was written."""

    version: int = Field(description="The note's version this revision is.")
    title: str
    description: str
    tags: list[str]
    updated_date: datetime = Field(description="When this version was written (UTC).")


class TrashedNotePublic(NotePublic):
    """A note in the trash."""

    deleted_date: datetime = Field(description="When the note was deleted (UTC).")


def _revision(revision: Revision) -> dict[str, Any]:
    return {
        "version": revision.version,
        "title": revision.title.value,
        "description": revision.description.value,
        "tags": list(revision.tags.values),
        "updated_date": revision.updated_date,
    }


def revision_json(revision: Revision) -> bytes:
    return to_json(_revision(revision))


def revisions_json(revisions: list[Revision]) -> bytes:
    return to_json([_revision(revision) for revision in revisions])


def _trashed(trashed: TrashedNote, owner: str) -> bytes:
    # ``NotePublic``'s JSON object, with ``deleted_date`` added before its closing brace.
    return (
        note_json(trashed.note, owner)[:-1]
        + b',"deleted_date":'
        + to_json(trashed.deleted_date)
        + b"}"
    )


def trashed_json(trashed: TrashedNote | list[TrashedNote], owner: str) -> bytes:
    """One trashed note of ``owner``'s, or a JSON array of them."""
    if isinstance(trashed, list):
        return b"[" + b",".join(_trashed(t, owner) for t in trashed) + b"]"
    return _trashed(trashed, owner)
