"""Sharing: ``note_shares`` (who each note is shared with, keyed by its owner),
``shared_notes`` (the same shares keyed by the grantee, the index a grantee's listing and
reads go through) and ``note_links`` (public read-only links, only their token's hash).

Every table belongs to a user: ``note_shares`` and ``note_links`` to the note's owner,
``shared_notes`` to the grantee. Downgrading drops the three: every share and link is lost.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.dialects import mysql_table_options
from adapters.sqlalchemy.types import MYSQL_DATETIME

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True).with_variant(MYSQL_DATETIME, "mysql")


def _user_key(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"), ondelete="CASCADE"
    )


def _known_permission(table: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        "permission IN ('read', 'write')", name=op.f(f"ck_{table}_permission_known")
    )


def upgrade() -> None:
    op.create_table(
        "note_shares",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("note_id", sa.Uuid(), nullable=False),
        sa.Column("grantee_id", sa.Uuid(), nullable=False),
        sa.Column("permission", sa.String(5), nullable=False),
        sa.Column("created_date", _TIMESTAMP, nullable=False),
        _known_permission("note_shares"),
        _user_key("note_shares", "owner_id"),
        _user_key("note_shares", "grantee_id"),
        sa.PrimaryKeyConstraint("owner_id", "note_id", "grantee_id", name=op.f("pk_note_shares")),
        **mysql_table_options(op.get_bind()),
    )
    op.create_table(
        "shared_notes",
        sa.Column("grantee_id", sa.Uuid(), nullable=False),
        sa.Column("note_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("permission", sa.String(5), nullable=False),
        sa.Column("note_created_date", _TIMESTAMP, nullable=False),
        _known_permission("shared_notes"),
        _user_key("shared_notes", "grantee_id"),
        _user_key("shared_notes", "owner_id"),
        sa.PrimaryKeyConstraint("grantee_id", "note_id", "owner_id", name=op.f("pk_shared_notes")),
        **mysql_table_options(op.get_bind()),
    )
    op.create_index(
        "ix_shared_notes_grantee_id_note_created_date_note_id",
        "shared_notes",
        ["grantee_id", "note_created_date", "note_id"],
    )
    op.create_table(
        "note_links",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("note_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_date", _TIMESTAMP, nullable=False),
        sa.Column("expires_date", _TIMESTAMP, nullable=False),
        _user_key("note_links", "owner_id"),
        sa.PrimaryKeyConstraint("owner_id", "id", name=op.f("pk_note_links")),
        sa.UniqueConstraint(
            "owner_id", "token_hash", name=op.f("uq_note_links_owner_id_token_hash")
        ),
        **mysql_table_options(op.get_bind()),
    )
    op.create_index("ix_note_links_owner_id_note_id", "note_links", ["owner_id", "note_id"])


def downgrade() -> None:
    op.drop_index("ix_note_links_owner_id_note_id", table_name="note_links")
    op.drop_table("note_links")
    op.drop_index("ix_shared_notes_grantee_id_note_created_date_note_id", table_name="shared_notes")
    op.drop_table("shared_notes")
    op.drop_table("note_shares")
