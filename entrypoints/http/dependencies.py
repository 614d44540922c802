"""What routes get from the application, resolved once at start-up rather than per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from application import Notes

__all__ = ["NotesDep", "get_notes"]


async def get_notes(request: Request) -> Notes:
    """The use cases the lifespan put on ``app.state``.

    Async on purpose: FastAPI runs a synchronous dependency in a worker thread.
    """
    notes: Notes = request.app.state.notes
    return notes


NotesDep = Annotated[Notes, Depends(get_notes)]
