"""The SQL repository of revisions, and the statements that keep one with each write.

On PostgreSQL a write and the revision it makes are one statement (data-modifying CTEs:
``WITH written AS (INSERT/UPDATE … RETURNING …) INSERT INTO note_revisions SELECT … FROM
written``), pruning included, so keeping revisions costs no round trip. SQLite, which has no
data-modifying CTEs, runs them one after the other in the same transaction, on a local file.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

import sqlalchemy as sa

from adapters.sqlalchemy.events import with_event
from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import note_revisions, notes
from domain import Note
from domain.revisions import Revision

__all__ = [
    "CREATE_WITH_REVISION",
    "CREATE_WITH_REVISION_AND_EVENT",
    "NOTE_KEYS",
    "REVISION_COLUMNS",
    "SqlRevisionRepository",
    "prune_statement",
    "revision_insert",
    "revision_row",
    "to_revision",
    "update_with_revision",
]

REVISION_COLUMNS: Final = (
    "owner_id",
    "note_id",
    "version",
    "title",
    "description",
    "tags",
    "updated_date",
)
_FROM_NOTE: Final = ("owner_id", "id", "version", "title", "description", "tags", "updated_date")
NOTE_KEYS: Final = (
    "search_title",
    "search_body",
    "id",
    "owner_id",
    "title",
    "description",
    "tags",
    "created_date",
    "updated_date",
    "version",
)


def _revision_of(written: sa.CTE) -> sa.Insert:
    """``INSERT INTO note_revisions SELECT … FROM written``: the revision of the note
    row a data-modifying CTE returned."""
    return note_revisions.insert().from_select(
        list(REVISION_COLUMNS), sa.select(*(written.c[name] for name in _FROM_NOTE))
    )


def _create_with_revision(*, event: bool) -> sa.Insert:
    created = (
        notes.insert()
        .values({name: sa.bindparam(name) for name in NOTE_KEYS})
        .returning(*(notes.c[name] for name in _FROM_NOTE))
        .cte("created")
    )
    statement = _revision_of(created)
    return with_event(statement, created) if event else statement


CREATE_WITH_REVISION: Final = _create_with_revision(event=False)
"""PostgreSQL: insert one note (a ``notes.note_row``) and its revision, in one statement."""
CREATE_WITH_REVISION_AND_EVENT: Final = _create_with_revision(event=True)
"""``CREATE_WITH_REVISION`` that records an event too (``events.with_event``)."""


def prune_statement(owner: str = "owner_id", note: str = "note_id") -> sa.Delete:
    """Drop one note's revisions older than ``oldest_kept`` (the note's key bound as
    ``owner`` and ``note``)."""
    return note_revisions.delete().where(
        note_revisions.c.owner_id == sa.bindparam(owner),
        note_revisions.c.note_id == sa.bindparam(note),
        note_revisions.c.version < sa.bindparam("oldest_kept"),
    )


def _update_with_revision(*, event: bool) -> sa.Select[Any]:
    changed = ("search_title", "search_body", "title", "description", "tags", "updated_date")
    updated = (
        notes.update()
        .where(
            # Not named as columns: SQLAlchemy would SET a column its parameters name.
            notes.c.owner_id == sa.bindparam("key_owner_id"),
            notes.c.id == sa.bindparam("key_note_id"),
            notes.c.version == sa.bindparam("expected_version"),
        )
        .values({name: sa.bindparam(f"new_{name}") for name in (*changed, "version")})
        .returning(*(notes.c[name] for name in _FROM_NOTE))
        .cte("updated")
    )
    kept = _revision_of(updated).returning(note_revisions.c.version).cte("kept")
    pruned = prune_statement("key_owner_id", "key_note_id").cte("pruned")
    statement = sa.select(sa.func.count().label("updated")).select_from(kept).add_cte(pruned)
    return with_event(statement, updated) if event else statement


_UPDATE_WITH_REVISION: Final = _update_with_revision(event=False)
_UPDATE_WITH_REVISION_AND_EVENT: Final = _update_with_revision(event=True)


def update_with_revision(*, event: bool = False) -> sa.Select[Any]:
    """PostgreSQL: update a note from ``expected_version``, keep its new version as a
    revision and prune those older than ``oldest_kept``, in one statement; it answers
    how many notes it updated (0 or 1). With ``event``, it records an event of the update
    too (``events.with_event``; none if nothing was updated)."""
    return _UPDATE_WITH_REVISION_AND_EVENT if event else _UPDATE_WITH_REVISION


_REVISION_INSERT: Final = note_revisions.insert()


def revision_insert() -> sa.Insert:
    """Insert ``revision_row``s (one, or many as executemany)."""
    return _REVISION_INSERT


def revision_row(note: Note) -> dict[str, Any]:
    """The row that keeps ``note``'s current version as a revision."""
    return {
        "owner_id": note.owner_id,
        "note_id": note.id,
        "version": note.version,
        "title": note.title.value,
        "description": note.description.value,
        "tags": list(note.tags.values),
        "updated_date": note.updated_date,
    }


def to_revision(row: Mapping[Any, Any]) -> Revision:
    """The revision a row of ``note_revisions`` stores, rebuilt without checking its values
    again (they were checked when they were written)."""
    note = Note.restore(
        id=row["note_id"],
        owner_id=row["owner_id"],
        title=row["title"],
        description=row["description"],
        tags=row["tags"],
        created_date=row["updated_date"],
        updated_date=row["updated_date"],
        version=row["version"],
    )
    return Revision.of(note)


_COLUMNS = tuple(note_revisions.c[name] for name in REVISION_COLUMNS)
_LIST = (
    sa.select(*_COLUMNS)
    .where(
        note_revisions.c.owner_id == sa.bindparam("owner_id"),
        note_revisions.c.note_id == sa.bindparam("note_id"),
        note_revisions.c.version < sa.bindparam("before"),
    )
    .order_by(note_revisions.c.version.desc())
    .limit(sa.bindparam("limit"))
)
_GET = sa.select(*_COLUMNS).where(
    note_revisions.c.owner_id == sa.bindparam("owner_id"),
    note_revisions.c.note_id == sa.bindparam("note_id"),
    note_revisions.c.version == sa.bindparam("version"),
)
_NO_BOUND: Final = 2**31 - 1


class SqlRevisionRepository:
    """Revisions in the ``note_revisions`` table."""

    def __init__(self, uow: Session) -> None:
        self._uow = uow

    async def list(
        self, owner_id: UUID, note_id: UUID, *, limit: int, before: int | None = None
    ) -> builtins.list[Revision]:
        parameters = {
            "owner_id": owner_id,
            "note_id": note_id,
            "before": _NO_BOUND if before is None else before,
            "limit": limit,
        }
        rows = await self._uow.fetch_all(_LIST, parameters)
        return [to_revision(row) for row in rows]

    async def get(self, owner_id: UUID, note_id: UUID, version: int) -> Revision | None:
        parameters = {"owner_id": owner_id, "note_id": note_id, "version": version}
        row = await self._uow.fetch_one(_GET, parameters)
        return None if row is None else to_revision(row)

    async def prune(self, owner_id: UUID, note_id: UUID, oldest_kept: int) -> None:
        parameters = {"owner_id": owner_id, "note_id": note_id, "oldest_kept": oldest_kept}
        await self._uow.execute(prune_statement(), parameters, write=True)
