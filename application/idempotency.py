"""Idempotent writes: a client-chosen key makes a retried request answer as the first did.

The key, the fingerprint of the request it was first used with, and the result are stored in
the same transaction as the write itself. A retry with the same key and the same request
gets the stored result and writes nothing; the same key with a different request is refused
(``IdempotencyKeyReused``). Two identical requests racing with one key serialise on the
key's row: the second waits for the first to commit and then replays its result, so exactly
one write happens. Keys expire after a while (24 hours by default); an expired key is
forgotten the next time its owner uses any key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from application.errors import ApplicationError
from domain import Description, Note, RuleViolation, Tags, Title

__all__ = [
    "MAX_KEY_LENGTH",
    "IdempotencyKeyReused",
    "IdempotencyRecord",
    "InvalidIdempotencyKey",
    "check_key",
    "fingerprint",
    "notes_from_result",
    "result_of",
]

MAX_KEY_LENGTH: Final = 255


class IdempotencyKeyReused(ApplicationError):
    """The key was first used with a different request."""


class InvalidIdempotencyKey(RuleViolation):
    """The key is empty, too long, or not printable ASCII."""

    field = "Idempotency-Key"


@dataclass(frozen=True, slots=True, kw_only=True)
class IdempotencyRecord:
    """One used key of one owner: what it was used for, what came of it, until when."""

    owner_id: UUID
    key: str
    fingerprint: str
    result: str
    created_at: datetime
    expires_at: datetime


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidIdempotencyKey(
            f"an Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        )
    return key


def fingerprint(operation: str, drafts: Sequence[tuple[str, str, Sequence[str]]]) -> str:
    """What identifies a request's meaning: the operation and its notes' content, so that a
    retry sent with other whitespace or key order in its JSON is still the same request."""
    canonical = json.dumps([operation, [[t, d, list(g)] for t, d, g in drafts]])
    return hashlib.sha256(canonical.encode()).hexdigest()


def result_of(notes: Sequence[Note]) -> str:
    """The notes a write produced, as stored with its key."""
    return json.dumps(
        [
            {
                "id": str(n.id),
                "owner_id": str(n.owner_id),
                "title": n.title.value,
                "description": n.description.value,
                "tags": list(n.tags.values),
                "created_date": n.created_date.isoformat(),
                "updated_date": n.updated_date.isoformat(),
                "version": n.version,
            }
            for n in notes
        ]
    )


def notes_from_result(result: str) -> list[Note]:
    """The notes as they were when the write that stored ``result`` committed."""
    stored: list[dict[str, Any]] = json.loads(result)
    return [
        Note(
            id=UUID(n["id"]),
            owner_id=UUID(n["owner_id"]),
            title=Title(n["title"]),
            description=Description(n["description"]),
            tags=Tags(tuple(n["tags"])),
            created_date=datetime.fromisoformat(n["created_date"]),
            updated_date=datetime.fromisoformat(n["updated_date"]),
            version=n["version"],
        )
        for n in stored
    ]
