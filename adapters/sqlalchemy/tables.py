"""The schema, declared once with SQLAlchemy Core.

The naming convention gives every constraint and index a stable name, so Alembic's
migrations and autogenerate comparisons agree on every database.

Every table says how it is placed when the database is sharded (``notes db distribute``),
in its ``info``: a table whose rows belong to a user names its owner column
(``info={"owner": column}``); its primary key and every unique constraint start with that
column, and every statement on it filters by it, so each request touches one shard.
A table shared by everyone is a reference table (``info={"reference": True}``), copied to
every node. ``placement`` reads it back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Final, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from adapters.sqlalchemy.types import LONG_TEXT, TagList, UtcDateTime
from domain import MAX_TITLE_LENGTH
from domain.users import MAX_USERNAME_LENGTH

__all__ = [
    "DATABASE_MAINTAINED",
    "SKIPPED_ON_MYSQL",
    "comparison_filter",
    "idempotency_keys",
    "include_in_comparison",
    "login_failures",
    "metadata",
    "note_event_heads",
    "note_events",
    "note_links",
    "note_quota",
    "note_revisions",
    "note_shares",
    "note_usage",
    "notes",
    "owner_column",
    "personal_tokens",
    "placement",
    "refresh_tokens",
    "shared_notes",
    "trashed_notes",
    "users",
]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("username", sa.String(MAX_USERNAME_LENGTH), nullable=False),
    # The lower-cased username: uniqueness regardless of case, one index lookup at login.
    sa.Column("username_key", sa.String(MAX_USERNAME_LENGTH), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("created_date", UtcDateTime(), nullable=False),
    # Read by id and by username on every request that needs a user: on every node.
    info={"reference": True},
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("family_id", sa.Uuid(), nullable=False),
    # SHA-256 of the token the client holds, hex: the token itself is never stored.
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("issued_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint("user_id", "id"),
    sa.UniqueConstraint("user_id", "token_hash"),
    sa.Index(None, "user_id", "family_id"),
    info={"owner": "user_id"},
)

login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("username_key", sa.String(MAX_USERNAME_LENGTH), nullable=False),
    # Made here: a key that starts with the username cannot take SQLite's autoincrement.
    sa.Column("id", sa.Uuid(), nullable=False, default=uuid.uuid4),
    sa.Column("failed_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("username_key", "id"),
    # The client address the attempt came from ('' when unknown).
    sa.Column("client", sa.String(64), nullable=False, server_default=""),
    sa.Index(None, "username_key", "failed_at"),
    # Failures are counted per username, whether or not a user has it.
    info={"owner": "username_key"},
)

notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.String(MAX_TITLE_LENGTH), nullable=False),
    sa.Column("description", LONG_TEXT, nullable=False),
    sa.Column("tags", TagList(), nullable=False),
    sa.Column("created_date", UtcDateTime(), nullable=False),
    sa.Column("updated_date", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    # The searchable tokens of the title and of the description, encoded (domain.search),
    # space-separated. PostgreSQL derives its tsvector from them.
    sa.Column("search_title", LONG_TEXT, nullable=False, server_default=""),
    sa.Column("search_body", LONG_TEXT, nullable=False, server_default=""),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    # Ids are unique everywhere (UUIDv7); the key starts with the owner for sharding.
    sa.PrimaryKeyConstraint("owner_id", "id"),
    # Every listing is one owner's notes in one order: these serve each order by keyset.
    sa.Index(None, "owner_id", "created_date", "id"),
    sa.Index(None, "owner_id", "updated_date", "id"),
    # A GIN index on PostgreSQL: "carries all these tags" is an index lookup.
    sa.Index(None, "tags", postgresql_using="gin"),
    info={"owner": "owner_id"},
)

note_revisions = sa.Table(
    "note_revisions",
    metadata,
    sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # No foreign key to notes: a trashed note keeps its revisions.
    sa.Column("note_id", sa.Uuid(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("title", sa.String(MAX_TITLE_LENGTH), nullable=False),
    sa.Column("description", LONG_TEXT, nullable=False),
    sa.Column("tags", TagList(), nullable=False),
    sa.Column("updated_date", UtcDateTime(), nullable=False),
    # One note's revisions, newest first, are a backward scan of this key.
    sa.PrimaryKeyConstraint("owner_id", "note_id", "version"),
    info={"owner": "owner_id"},
)

trashed_notes = sa.Table(
    "trashed_notes",
    metadata,
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.String(MAX_TITLE_LENGTH), nullable=False),
    sa.Column("description", LONG_TEXT, nullable=False),
    sa.Column("tags", TagList(), nullable=False),
    sa.Column("created_date", UtcDateTime(), nullable=False),
    sa.Column("updated_date", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("deleted_date", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("owner_id", "id"),
    # The trash is listed most recently deleted first, by keyset.
    sa.Index(None, "owner_id", "deleted_date", "id"),
    # The purge finds what expired across owners.
    sa.Index(None, "deleted_date"),
    info={"owner": "owner_id"},
)

# Per owner, the last event number handed out: ``append`` updates it, which row-locks it
# until the transaction ends, so numbers are handed out in commit order.
note_event_heads = sa.Table(
    "note_event_heads",
    metadata,
    sa.Column(
        "owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    info={"owner": "owner_id"},
)

# Every change to a note (application.events), per owner in commit order.
note_events = sa.Table(
    "note_events",
    metadata,
    sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("seq", sa.BigInteger(), nullable=False, autoincrement=False),
    # No foreign key to notes: a deleted note keeps its events.
    sa.Column("note_id", sa.Uuid(), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    # A reader's page is a forward scan of this key.
    sa.PrimaryKeyConstraint("owner_id", "seq"),
    # The retention sweep finds what is old across owners.
    sa.Index(None, "at"),
    info={"owner": "owner_id"},
)

personal_tokens = sa.Table(
    "personal_tokens",
    metadata,
    sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    # Space-separated: "notes:read notes:write".
    sa.Column("scopes", sa.String(100), nullable=False),
    # SHA-256 of the token, hex: the token itself is never stored.
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_date", UtcDateTime(), nullable=False),
    sa.Column("expires_date", UtcDateTime(), nullable=False),
    sa.Column("last_used_date", UtcDateTime(), nullable=True),
    # The token names its owner and id: checking it is one lookup by this key.
    sa.PrimaryKeyConstraint("owner_id", "id"),
    info={"owner": "owner_id"},
)

# Who each note is shared with: the record, kept with the owner's rows.
note_shares = sa.Table(
    "note_shares",
    metadata,
    sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # No foreign key to notes: a trashed note keeps its shares (hidden until restored).
    sa.Column("note_id", sa.Uuid(), nullable=False),
    sa.Column(
        "grantee_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("permission", sa.String(5), nullable=False),
    sa.Column("created_date", UtcDateTime(), nullable=False),
    sa.CheckConstraint("permission IN ('read', 'write')", name="permission_known"),
    sa.PrimaryKeyConstraint("owner_id", "note_id", "grantee_id"),
    info={"owner": "owner_id"},
)

# The grantee's index of the same shares, written with ``note_shares`` in one transaction:
# what a grantee's ``GET /shared/`` and reads by id go through, on the grantee's shard.
shared_notes = sa.Table(
    "shared_notes",
    metadata,
    sa.Column(
        "grantee_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("note_id", sa.Uuid(), nullable=False),
    sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("permission", sa.String(5), nullable=False),
    # The note's creation date, which never changes: the listing's keyset order by index.
    sa.Column("note_created_date", UtcDateTime(), nullable=False),
    sa.CheckConstraint("permission IN ('read', 'write')", name="permission_known"),
    sa.PrimaryKeyConstraint("grantee_id", "note_id", "owner_id"),
    sa.Index(None, "grantee_id", "note_created_date", "note_id"),
    info={"owner": "grantee_id"},
)

# Public read-only links: only the hash of a link's token is kept.
note_links = sa.Table(
    "note_links",
    metadata,
    sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("note_id", sa.Uuid(), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_date", UtcDateTime(), nullable=False),
    sa.Column("expires_date", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("owner_id", "id"),
    sa.UniqueConstraint("owner_id", "token_hash"),
    sa.Index(None, "owner_id", "note_id"),
    info={"owner": "owner_id"},
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column(
        "owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    # The notes the write produced, as JSON (application.idempotency.result_of).
    sa.Column("result", sa.Text().with_variant(mysql.LONGTEXT(), "mysql"), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    info={"owner": "owner_id"},
)

# Kept by triggers on notes (migration 0004), read to report usage.
note_usage = sa.Table(
    "note_usage",
    metadata,
    sa.Column(
        "owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("notes", sa.BigInteger(), nullable=False),
    sa.Column("bytes", sa.BigInteger(), nullable=False),
    info={"owner": "owner_id"},
)

# The quota the triggers enforce: one row (id 1), written at start-up; none, no limit.
note_quota = sa.Table(
    "note_quota",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("max_notes", sa.BigInteger(), nullable=False),
    sa.Column("max_bytes", sa.BigInteger(), nullable=False),
    info={"reference": True},
)

DATABASE_MAINTAINED: Final = frozenset(
    {"search_vector", "ix_notes_search_vector", "search_words", "ix_notes_search_words"}
)
"""What the migrations add and the database maintains itself, outside the tables declared
here: the notes' tsvector (a stored generated column) and its GIN index on PostgreSQL, the
tokens and their FULLTEXT index on MySQL."""
SKIPPED_ON_MYSQL: Final = frozenset({"ix_notes_tags"})
"""Declared here, and not made on MySQL: a JSON column cannot be a plain index's key."""


def include_in_comparison(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's ``include_object`` hook: compare everything but ``DATABASE_MAINTAINED``."""
    return name not in DATABASE_MAINTAINED


def comparison_filter(dialect: str) -> Callable[[object, str | None, str, bool, object], bool]:
    """``include_in_comparison`` for a database of ``dialect``: on MySQL, without
    ``SKIPPED_ON_MYSQL`` too."""
    if dialect != "mysql":
        return include_in_comparison

    def include(
        obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
    ) -> bool:
        return name not in SKIPPED_ON_MYSQL and include_in_comparison(
            obj, name, type_, reflected, compare_to
        )

    return include


def owner_column(table: sa.Table) -> str | None:
    """The column naming the user a row of ``table`` belongs to; ``None`` if it is shared."""
    owner: str | None = table.info.get("owner")
    return owner


def placement(table: sa.Table) -> Literal["per-user", "reference"]:
    """How ``table`` is placed on a sharded database; ``LookupError`` if it does not say."""
    if owner_column(table) is not None:
        return "per-user"
    if table.info.get("reference"):
        return "reference"
    raise LookupError(f"table {table.name} declares neither an owner nor a reference placement")


# Declared in modules of their own, on this metadata.
from adapters.sqlalchemy import webhook_tables  # noqa: E402, F401
