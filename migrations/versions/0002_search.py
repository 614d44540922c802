"""Finding notes: searchable tokens, the PostgreSQL tsvector and its GIN index (on MySQL, a
FULLTEXT index over them), the tags GIN index, and an index for the updated_desc order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from adapters.sqlalchemy.finding import MYSQL_WORDS, MYSQL_WORDS_INDEX, MYSQL_WORDS_SQL
from adapters.sqlalchemy.types import LONG_TEXT
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
    """Compute the searchable tokens of the notes that exist: one owner at a time, a batch
    of that owner's notes at a time, every statement filtered by the owner (on a sharded
    database, each goes to one shard)."""
    bind = op.get_bind()
    notes = sa.table(
        "notes",
        sa.column("id", sa.Uuid()),
        sa.column("owner_id", sa.Uuid()),
        sa.column("title", sa.Text()),
        sa.column("description", sa.Text()),
        sa.column("search_title", sa.Text()),
        sa.column("search_body", sa.Text()),
    )
    users = sa.table("users", sa.column("id", sa.Uuid()))
    update = (
        notes.update()
        .where(notes.c.owner_id == sa.bindparam("b_owner"), notes.c.id == sa.bindparam("b_note"))
        .values(search_title=sa.bindparam("b_title"), search_body=sa.bindparam("b_body"))
    )
    for owner in _batched(bind, users.c.id):
        for rows in _note_batches(bind, notes, owner):
            bind.execute(
                update,
                [
                    {
                        "b_owner": owner,
                        "b_note": note_id,
                        "b_title": _encoded(title),
                        "b_body": _encoded(description),
                    }
                    for note_id, title, description in rows
                ],
            )


def _batched(bind: sa.Connection, key: sa.ColumnClause[Any]) -> Any:
    """Every value of ``key`` (a reference table's key), read ``_BATCH`` at a time."""
    last = None
    while True:
        query = sa.select(key).order_by(key).limit(_BATCH)
        if last is not None:
            query = query.where(key > last)
        values = list(bind.execute(query).scalars())
        yield from values
        if len(values) < _BATCH:
            return
        last = values[-1]


def _note_batches(bind: sa.Connection, notes: sa.TableClause, owner: Any) -> Any:
    """The owner's notes as (id, title, description) rows, ``_BATCH`` at a time."""
    last = None
    while True:
        query = (
            sa.select(notes.c.id, notes.c.title, notes.c.description)
            .where(notes.c.owner_id == owner)
            .order_by(notes.c.id)
            .limit(_BATCH)
        )
        if last is not None:
            query = query.where(notes.c.id > last)
        rows = bind.execute(query).all()
        if rows:
            yield rows
        if len(rows) < _BATCH:
            return
        last = rows[-1][0]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    postgres = dialect == "postgresql"
    # MySQL takes a default for a TEXT column only as an expression.
    empty = sa.text("('')") if dialect == "mysql" else ""
    with op.batch_alter_table("notes") as batch:
        batch.add_column(sa.Column("search_title", LONG_TEXT, nullable=False, server_default=empty))
        batch.add_column(sa.Column("search_body", LONG_TEXT, nullable=False, server_default=empty))
    _backfill()
    op.create_index(
        op.f("ix_notes_owner_id_updated_date_id"), "notes", ["owner_id", "updated_date", "id"]
    )
    if dialect == "mysql":
        # The searchable tokens, each cut to the longest token FULLTEXT indexes, and the
        # FULLTEXT index that narrows a search (adapters.sqlalchemy.finding). Tags have no
        # index on MySQL: a JSON column cannot be a plain index's key.
        op.execute(
            f"ALTER TABLE notes ADD COLUMN {MYSQL_WORDS} MEDIUMTEXT "
            f"GENERATED ALWAYS AS ({MYSQL_WORDS_SQL}) STORED"
        )
        # Built without a stopword list: every token is indexed.
        op.execute("SET SESSION innodb_ft_enable_stopword = OFF")
        op.execute(f"CREATE FULLTEXT INDEX {MYSQL_WORDS_INDEX} ON notes ({MYSQL_WORDS})")
    else:
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
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_index("ix_notes_search_vector", table_name="notes")
        op.drop_column("notes", "search_vector")
    if dialect == "mysql":
        op.drop_index(MYSQL_WORDS_INDEX, table_name="notes")
        op.drop_column("notes", MYSQL_WORDS)
    else:
        op.drop_index(op.f("ix_notes_tags"), table_name="notes")
    op.drop_index(op.f("ix_notes_owner_id_updated_date_id"), table_name="notes")
    with op.batch_alter_table("notes") as batch:
        batch.drop_column("search_body")
        batch.drop_column("search_title")
