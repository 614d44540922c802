"""Per-owner quotas: how many notes an owner may keep, and how many bytes of text.

A note's stored size is the UTF-8 length of its title plus its description. Storage
enforces the quota in the same step as the write (``NoteRepository.add``, ``add_many`` and
``update`` raise ``QuotaExceeded``, at the latest on ``commit()``), so concurrent writes
cannot together overshoot it.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain import Note

__all__ = ["Quota", "stored_bytes"]


@dataclass(frozen=True, slots=True)
class Quota:
    max_notes: int
    max_bytes: int


def stored_bytes(note: Note) -> int:
    """What ``note`` counts against its owner's byte quota."""
    return len(note.title.value.encode()) + len(note.description.value.encode())
