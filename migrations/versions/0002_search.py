"""Finding notes: searchable tokens, the PostgreSQL tsvector and its GIN index, the tags
GIN index, and an index for the updated_desc order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from domain.search import encode, tokens

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, search_body), 'D')"
)
_BATCH = 1000


def _encoded(text: str) -> str:
    return " ".join(encode(token) for token in tokens(text))


def _backfill() -> None:
    """Compute the searchable tokens of the notes that exist, a batch at a time."""
    bind = op.get_bind()
    notes = sa.table(
        "notes",
        sa.column("id", sa.Uuid()),
        sa.column("title", sa.Text()),
        sa.column("description", sa.Text()),
        sa.column("search_title", sa.Text()),
        sa.column("search_body", sa.Text()),
    )
    last = None
    while True:
        query = sa.select(notes.c.id, notes.c.title, notes.c.description).order_by(notes.c.id)
        if last is not None:
            query = query.where(notes.c.id > last)
        rows = bind.execute(query.limit(_BATCH)).all()
        if not rows:
            return
        for note_id, title, description in rows:
            bind.execute(
                notes.update()
                .where(notes.c.id == note_id)
                .values(search_title=_encoded(title), search_body=_encoded(description))
            )
        last = rows[-1][0]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("notes") as batch:
        batch.add_column(sa.Column("search_title", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("search_body", sa.Text(), nullable=False, server_default=""))
    _backfill()
    op.create_index(
        op.f("ix_notes_owner_id_updated_date_id"), "notes", ["owner_id", "updated_date", "id"]
    )
    op.create_index(op.f("ix_notes_tags"), "notes", ["tags"], postgresql_using="gin")
    if postgres:
        op.add_column(
            "notes",
            sa.Column("search_vector", postgresql.TSVECTOR(), sa.Computed(_VECTOR, persisted=True)),
        )
        op.create_index(
            "ix_notes_search_vector", "notes", ["search_vector"], postgresql_using="gin"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_notes_search_vector", table_name="notes")
        op.drop_column("notes", "search_vector")
    op.drop_index(op.f("ix_notes_tags"), table_name="notes")
    op.drop_index(op.f("ix_notes_owner_id_updated_date_id"), table_name="notes")
    with op.batch_alter_table("notes") as batch:
        batch.drop_column("search_body")
        batch.drop_column("search_title")
