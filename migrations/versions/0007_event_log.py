"""The event log: ``note_events`` records every change to a note, numbered per owner from
``note_event_heads`` in commit order; ``personal_tokens`` holds personal access tokens (only
their hashes).

All three belong to a user: their keys start with ``owner_id``. The log starts empty: changes
made before this migration are not in it. Downgrading drops the three tables.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.dialects import mysql_table_options
from adapters.sqlalchemy.types import MYSQL_DATETIME

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True).with_variant(MYSQL_DATETIME, "mysql")


def upgrade() -> None:
    op.create_table(
        "note_event_heads",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_note_event_heads_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", name=op.f("pk_note_event_heads")),
        **mysql_table_options(op.get_bind()),
    )
    op.create_table(
        "note_events",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("note_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", _TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_note_events_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", "seq", name=op.f("pk_note_events")),
        **mysql_table_options(op.get_bind()),
    )
    op.create_index("ix_note_events_at", "note_events", ["at"])
    op.create_table(
        "personal_tokens",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("scopes", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_date", _TIMESTAMP, nullable=False),
        sa.Column("expires_date", _TIMESTAMP, nullable=False),
        sa.Column("last_used_date", _TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_personal_tokens_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", "id", name=op.f("pk_personal_tokens")),
        **mysql_table_options(op.get_bind()),
    )


def downgrade() -> None:
    op.drop_table("personal_tokens")
    op.drop_index("ix_note_events_at", table_name="note_events")
    op.drop_table("note_events")
    op.drop_table("note_event_heads")
