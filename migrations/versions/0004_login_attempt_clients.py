"""Failed logins remember the client address they came from.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_failures") as batch:
        batch.add_column(sa.Column("client", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("login_failures") as batch:
        batch.drop_column("client")
