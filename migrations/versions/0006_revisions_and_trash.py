"""Revisions and the trash: ``note_revisions`` keeps each version of a note, and
``trashed_notes`` holds deleted notes until they are restored or purged.

Both belong to a user: their keys start with ``owner_id``. Every existing note gets its
current version as its first revision, one owner at a time. Downgrading drops both tables:
the revisions and the notes in the trash are lost.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from adapters.sqlalchemy.dialects import mysql_table_options
from adapters.sqlalchemy.types import LONG_TEXT, MYSQL_DATETIME

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 1000
_TIMESTAMP = sa.DateTime(timezone=True).with_variant(MYSQL_DATETIME, "mysql")
_COLUMNS = ("owner_id", "note_id", "version", "title", "description", "tags", "updated_date")


def _tags() -> sa.types.TypeEngine[Any]:
    return postgresql.ARRAY(sa.Text()) if op.get_bind().dialect.name == "postgresql" else sa.JSON()


def _owners() -> Iterator[Any]:
    """Every owner of a note, a batch at a time."""
    notes = sa.table("notes", sa.column("owner_id"))
    bind = op.get_bind()
    last = None
    while True:
        query = sa.select(notes.c.owner_id).distinct().order_by(notes.c.owner_id).limit(_BATCH)
        if last is not None:
            query = query.where(notes.c.owner_id > last)
        owners = list(bind.execute(query).scalars())
        yield from owners
        if len(owners) < _BATCH:
            return
        last = owners[-1]


def _first_revisions() -> None:
    """Each existing note's current version becomes its first revision, one owner's notes
    per statement."""
    notes = sa.table(
        "notes",
        *(sa.column(name) for name in ("owner_id", "id", "version", "title", "description")),
        sa.column("tags"),
        sa.column("updated_date"),
    )
    revisions = sa.table("note_revisions", *(sa.column(name) for name in _COLUMNS))
    bind = op.get_bind()
    for owner_id in list(_owners()):
        copied = sa.select(
            notes.c.owner_id,
            notes.c.id,
            notes.c.version,
            notes.c.title,
            notes.c.description,
            notes.c.tags,
            notes.c.updated_date,
        ).where(notes.c.owner_id == owner_id)
        bind.execute(revisions.insert().from_select(list(_COLUMNS), copied))


def upgrade() -> None:
    op.create_table(
        "note_revisions",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("note_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", LONG_TEXT, nullable=False),
        sa.Column("tags", _tags(), nullable=False),
        sa.Column("updated_date", _TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_note_revisions_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", "note_id", "version", name=op.f("pk_note_revisions")),
        **mysql_table_options(op.get_bind()),
    )
    op.create_table(
        "trashed_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", LONG_TEXT, nullable=False),
        sa.Column("tags", _tags(), nullable=False),
        sa.Column("created_date", _TIMESTAMP, nullable=False),
        sa.Column("updated_date", _TIMESTAMP, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_date", _TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_trashed_notes_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", "id", name=op.f("pk_trashed_notes")),
        **mysql_table_options(op.get_bind()),
    )
    op.create_index(
        "ix_trashed_notes_owner_id_deleted_date_id",
        "trashed_notes",
        ["owner_id", "deleted_date", "id"],
    )
    op.create_index("ix_trashed_notes_deleted_date", "trashed_notes", ["deleted_date"])
    _first_revisions()


def downgrade() -> None:
    op.drop_index("ix_trashed_notes_deleted_date", table_name="trashed_notes")
    op.drop_index("ix_trashed_notes_owner_id_deleted_date_id", table_name="trashed_notes")
    op.drop_table("trashed_notes")
    op.drop_table("note_revisions")
