"""The schema, declared once with SQLAlchemy Core.

The naming convention gives every constraint and index a stable name, so Alembic's
migrations and autogenerate comparisons agree on every database.
"""

from __future__ import annotations

import sqlalchemy as sa

from adapters.sqlalchemy.types import TagList, UtcDateTime
from domain import MAX_TITLE_LENGTH

__all__ = ["metadata", "notes"]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("title", sa.String(MAX_TITLE_LENGTH), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("tags", TagList(), nullable=False),
    sa.Column("created_date", UtcDateTime(), nullable=False),
    sa.Column("updated_date", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    sa.Index(None, "created_date", "id"),
)
