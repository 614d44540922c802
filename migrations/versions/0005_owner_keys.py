"""Keys that start with the owner: notes by (owner_id, id), refresh tokens by (user_id, id)
and (user_id, token_hash), login failures by (username_key, id).

Then every per-user table can be distributed by its owner (``notes db distribute``).
Refresh tokens issued before this revision cannot be presented any more (a token now names
its user, see ``domain.sessions``): they are deleted, and their holders sign in again.
Login failures are copied, so throttling windows carry on.

On PostgreSQL each ``ALTER TABLE`` has one subcommand; SQLite rebuilds each table (batch
mode). Data is moved a batch at a time, each statement filtered by the owner.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.dialects import mysql_table_options
from adapters.sqlalchemy.types import MYSQL_DATETIME

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BATCH = 1000
_TIMESTAMP = sa.DateTime(timezone=True).with_variant(MYSQL_DATETIME, "mysql")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _mysql() -> bool:
    return op.get_bind().dialect.name == "mysql"


def _owners(table: sa.TableClause, column: str) -> Iterator[Any]:
    """Every distinct value of ``column`` in ``table``, read a batch at a time."""
    bind = op.get_bind()
    key = table.c[column]
    last = None
    while True:
        query = sa.select(key).distinct().order_by(key).limit(_BATCH)
        if last is not None:
            query = query.where(key > last)
        values = list(bind.execute(query).scalars())
        yield from values
        if len(values) < _BATCH:
            return
        last = values[-1]


def _delete_refresh_tokens() -> None:
    tokens = sa.table("refresh_tokens", sa.column("user_id", sa.Uuid()))
    bind = op.get_bind()
    for user_id in list(_owners(tokens, "user_id")):
        bind.execute(tokens.delete().where(tokens.c.user_id == user_id))


def _rekey_notes(columns: tuple[str, ...]) -> None:
    if _sqlite():
        # A batch rebuilds the table, and SQLite drops a table's triggers with it (the
        # quota's, from 0004): they are made again on the new table.
        bind = op.get_bind()
        triggers = bind.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'notes'")
        ).scalars()
        kept = list(triggers)
        with op.batch_alter_table("notes") as batch:
            batch.drop_constraint("pk_notes", type_="primary")
            batch.create_primary_key("pk_notes", list(columns))
        for trigger in kept:
            op.execute(trigger)
        return
    if _mysql():
        # One rebuild of the table, and never a moment without a key.
        op.execute(f"ALTER TABLE notes DROP PRIMARY KEY, ADD PRIMARY KEY ({', '.join(columns)})")
        return
    op.drop_constraint("pk_notes", "notes", type_="primary")
    op.create_primary_key("pk_notes", "notes", list(columns))


def _rekey_refresh_tokens_mysql(*, owner_first: bool) -> None:
    """MySQL keeps an index on ``user_id`` for its foreign key at every step: the new key
    and indexes come before the old ones go."""
    if owner_first:
        op.execute(
            "ALTER TABLE refresh_tokens DROP PRIMARY KEY, ADD PRIMARY KEY (user_id, id), "
            "DROP INDEX uq_refresh_tokens_token_hash, "
            "ADD CONSTRAINT uq_refresh_tokens_user_id_token_hash UNIQUE (user_id, token_hash)"
        )
        op.create_index(
            "ix_refresh_tokens_user_id_family_id", "refresh_tokens", ["user_id", "family_id"]
        )
        op.drop_index("ix_refresh_tokens_family_id", table_name="refresh_tokens")
        op.drop_index("ix_refresh_tokens_user_id", table_name="refresh_tokens")
        return
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"])
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.drop_index("ix_refresh_tokens_user_id_family_id", table_name="refresh_tokens")
    op.execute(
        "ALTER TABLE refresh_tokens DROP PRIMARY KEY, ADD PRIMARY KEY (id), "
        "DROP INDEX uq_refresh_tokens_user_id_token_hash, "
        "ADD CONSTRAINT uq_refresh_tokens_token_hash UNIQUE (token_hash)"
    )


def _rekey_refresh_tokens(*, owner_first: bool) -> None:
    if _mysql():
        _rekey_refresh_tokens_mysql(owner_first=owner_first)
        return
    if owner_first:
        old_unique = "uq_refresh_tokens_token_hash"
        new_unique = "uq_refresh_tokens_user_id_token_hash"
        key, unique = ["user_id", "id"], ["user_id", "token_hash"]
        for index in ("ix_refresh_tokens_family_id", "ix_refresh_tokens_user_id"):
            op.drop_index(index, table_name="refresh_tokens")
    else:
        old_unique = "uq_refresh_tokens_user_id_token_hash"
        new_unique = "uq_refresh_tokens_token_hash"
        key, unique = ["id"], ["token_hash"]
        op.drop_index("ix_refresh_tokens_user_id_family_id", table_name="refresh_tokens")
    if _sqlite():
        with op.batch_alter_table("refresh_tokens") as batch:
            batch.drop_constraint(old_unique, type_="unique")
            batch.drop_constraint("pk_refresh_tokens", type_="primary")
            batch.create_primary_key("pk_refresh_tokens", key)
            batch.create_unique_constraint(new_unique, unique)
    else:
        op.drop_constraint(old_unique, "refresh_tokens", type_="unique")
        op.drop_constraint("pk_refresh_tokens", "refresh_tokens", type_="primary")
        op.create_primary_key("pk_refresh_tokens", "refresh_tokens", key)
        op.create_unique_constraint(new_unique, "refresh_tokens", unique)
    if owner_first:
        op.create_index(
            "ix_refresh_tokens_user_id_family_id", "refresh_tokens", ["user_id", "family_id"]
        )
    else:
        op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
        op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"])


def _login_failures_table(name: str, *, owner_first: bool) -> None:
    options = mysql_table_options(op.get_bind())
    if owner_first:
        op.create_table(
            name,
            sa.Column("username_key", sa.String(50), nullable=False),
            sa.Column("id", sa.Uuid(), nullable=False),
            sa.Column("failed_at", _TIMESTAMP, nullable=False),
            sa.Column("client", sa.String(64), nullable=False, server_default=""),
            sa.PrimaryKeyConstraint("username_key", "id", name=f"pk_{name}"),
            **options,
        )
    else:
        op.create_table(
            name,
            sa.Column(
                "id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                autoincrement=True,
                nullable=False,
            ),
            sa.Column("username_key", sa.String(50), nullable=False),
            sa.Column("failed_at", _TIMESTAMP, nullable=False),
            sa.Column("client", sa.String(64), nullable=False, server_default=""),
            sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
            **options,
        )


def _rebuild_login_failures(*, owner_first: bool) -> None:
    """A new ``login_failures`` with the other key, its rows copied one username at a time
    (a new id each: the old ones were a sequence's, the new ones are UUIDs or the reverse)."""
    op.drop_index("ix_login_failures_username_key_failed_at", table_name="login_failures")
    op.rename_table("login_failures", "login_failures_old")
    if op.get_bind().dialect.name == "postgresql":
        # The old primary key's index keeps its name across the rename; the new one needs it.
        op.execute("ALTER INDEX pk_login_failures RENAME TO pk_login_failures_old")
    _login_failures_table("login_failures", owner_first=owner_first)
    # Untyped columns: the values go across exactly as they are stored.
    old = sa.table(
        "login_failures_old", sa.column("username_key"), sa.column("failed_at"), sa.column("client")
    )
    new_columns = [sa.column("username_key"), sa.column("failed_at"), sa.column("client")]
    if owner_first:
        new_columns.append(sa.column("id", sa.Uuid()))
    new = sa.table("login_failures", *new_columns)
    bind = op.get_bind()
    for key in list(_owners(old, "username_key")):
        moments = bind.execute(
            sa.select(old.c.failed_at, old.c.client).where(old.c.username_key == key)
        )
        rows = [
            {
                "username_key": key,
                "failed_at": at,
                "client": client,
                **({"id": uuid.uuid4()} if owner_first else {}),
            }
            for at, client in moments
        ]
        if rows:
            bind.execute(new.insert(), rows)
    op.drop_table("login_failures_old")
    op.create_index(
        "ix_login_failures_username_key_failed_at", "login_failures", ["username_key", "failed_at"]
    )


def upgrade() -> None:
    _rekey_notes(("owner_id", "id"))
    _delete_refresh_tokens()
    _rekey_refresh_tokens(owner_first=True)
    _rebuild_login_failures(owner_first=True)


def downgrade() -> None:
    # Tokens issued since stay valid: their hash is of the whole token, as before.
    _rebuild_login_failures(owner_first=False)
    _rekey_refresh_tokens(owner_first=False)
    _rekey_notes(("id",))
