"""Webhooks: ``webhooks`` (each with its delivery cursor and a worker's lease) and
``webhook_deliveries`` (the attempts, the latest 100 per webhook).

Both belong to a user: their keys start with ``owner_id``. Downgrading drops both tables.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from adapters.sqlalchemy.dialects import mysql_table_options
from adapters.sqlalchemy.types import MYSQL_DATETIME

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True).with_variant(MYSQL_DATETIME, "mysql")


def _owner(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["owner_id"], ["users.id"], name=op.f(f"fk_{table}_owner_id_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", sa.String(200), nullable=False),
        sa.Column(
            "secret_seed",
            sa.LargeBinary(64).with_variant(mysql.VARBINARY(64), "mysql"),
            nullable=False,
        ),
        sa.Column("created_date", _TIMESTAMP, nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("first_failed_at", _TIMESTAMP, nullable=True),
        sa.Column("retry_at", _TIMESTAMP, nullable=True),
        sa.Column("claimed_until", _TIMESTAMP, nullable=True),
        sa.Column("claim_token", sa.Uuid(), nullable=True),
        _owner("webhooks"),
        sa.PrimaryKeyConstraint("owner_id", "id", name=op.f("pk_webhooks")),
        **mysql_table_options(op.get_bind()),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", _TIMESTAMP, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.Column("gave_up", sa.Boolean(), nullable=False),
        _owner("webhook_deliveries"),
        sa.PrimaryKeyConstraint("owner_id", "webhook_id", "id", name=op.f("pk_webhook_deliveries")),
        **mysql_table_options(op.get_bind()),
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
