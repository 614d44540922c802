"""Security: failed logins remember their client address; per-user quotas on notes and
stored bytes, kept by the database itself.

``note_usage`` holds each owner's number of notes and the UTF-8 bytes of their titles and
descriptions. Triggers keep it up to date in the statement that changes a note (no round
trip of its own) and refuse an insert or update that would take the owner past the limits
in ``note_quota`` (one row; no row: no limit), with SQLSTATE NQ001 (notes) or NQ002 (bytes)
on PostgreSQL and the message ``notes quota: notes`` / ``notes quota: bytes`` on SQLite and
MySQL (``SIGNAL SQLSTATE '45000'``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.dialects import mysql_table_options

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_PG_FUNCTION = """
CREATE FUNCTION notes_track_usage() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    added_notes integer := 0;
    added_bytes bigint := 0;
    limits record;
    used record;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        added_notes := added_notes - 1;
        added_bytes := added_bytes - octet_length(OLD.title) - octet_length(OLD.description);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        added_notes := added_notes + 1;
        added_bytes := added_bytes + octet_length(NEW.title) + octet_length(NEW.description);
    END IF;
    INSERT INTO note_usage AS u (owner_id, notes, bytes)
    VALUES (COALESCE(NEW.owner_id, OLD.owner_id), added_notes, added_bytes)
    ON CONFLICT (owner_id) DO UPDATE
        SET notes = u.notes + EXCLUDED.notes, bytes = u.bytes + EXCLUDED.bytes
    RETURNING notes, bytes INTO used;
    IF TG_OP <> 'DELETE' THEN
        SELECT max_notes, max_bytes INTO limits FROM note_quota WHERE id = 1;
        IF FOUND AND added_notes > 0 AND used.notes > limits.max_notes THEN
            RAISE EXCEPTION 'notes quota: notes' USING ERRCODE = 'NQ001';
        END IF;
        IF FOUND AND added_bytes > 0 AND used.bytes > limits.max_bytes THEN
            RAISE EXCEPTION 'notes quota: bytes' USING ERRCODE = 'NQ002';
        END IF;
    END IF;
    RETURN NULL;
END
$$
"""

_SQLITE_SIZE = "length(CAST({0}.title AS BLOB)) + length(CAST({0}.description AS BLOB))"
_SQLITE_CHECK = """
    SELECT RAISE(ABORT, 'notes quota: notes') FROM note_quota, note_usage
        WHERE note_quota.id = 1 AND note_usage.owner_id = NEW.owner_id
        AND note_usage.notes > note_quota.max_notes AND {added_notes} > 0;
    SELECT RAISE(ABORT, 'notes quota: bytes') FROM note_quota, note_usage
        WHERE note_quota.id = 1 AND note_usage.owner_id = NEW.owner_id
        AND note_usage.bytes > note_quota.max_bytes AND {added_bytes} > 0;
"""


def _sqlite_triggers() -> list[str]:
    new, old = _SQLITE_SIZE.format("NEW"), _SQLITE_SIZE.format("OLD")
    upsert = (
        "INSERT INTO note_usage (owner_id, notes, bytes) VALUES ({owner}, {notes}, {size}) "
        "ON CONFLICT (owner_id) DO UPDATE SET notes = notes + excluded.notes, "
        "bytes = bytes + excluded.bytes;"
    )
    return [
        "CREATE TRIGGER notes_usage_insert AFTER INSERT ON notes BEGIN "
        + upsert.format(owner="NEW.owner_id", notes=1, size=new)
        + _SQLITE_CHECK.format(added_notes=1, added_bytes=1)
        + " END",
        "CREATE TRIGGER notes_usage_update AFTER UPDATE ON notes BEGIN "
        + upsert.format(owner="NEW.owner_id", notes=0, size=f"{new} - ({old})")
        + _SQLITE_CHECK.format(added_notes=0, added_bytes=f"{new} - ({old})")
        + " END",
        "CREATE TRIGGER notes_usage_delete AFTER DELETE ON notes BEGIN "
        + upsert.format(owner="OLD.owner_id", notes=-1, size=f"-({old})")
        + " END",
    ]


_MYSQL_SIZE = "octet_length({0}.title) + octet_length({0}.description)"
_MYSQL_CHECK = """
    IF EXISTS (SELECT 1 FROM note_quota q JOIN note_usage u ON u.owner_id = NEW.owner_id
               WHERE q.id = 1 AND u.notes > q.max_notes AND {added_notes} > 0) THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'notes quota: notes';
    END IF;
    IF EXISTS (SELECT 1 FROM note_quota q JOIN note_usage u ON u.owner_id = NEW.owner_id
               WHERE q.id = 1 AND u.bytes > q.max_bytes AND {added_bytes} > 0) THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'notes quota: bytes';
    END IF;
"""


def _mysql_triggers() -> list[str]:
    """SQLite's triggers in MySQL's SQL. A ``SIGNAL`` in an ``AFTER`` trigger fails the
    statement, whose change InnoDB then undoes."""
    new, old = _MYSQL_SIZE.format("NEW"), _MYSQL_SIZE.format("OLD")
    upsert = (
        "INSERT INTO note_usage (owner_id, notes, bytes) VALUES ({owner}, {notes}, {size}) "
        "ON DUPLICATE KEY UPDATE notes = notes + {notes}, bytes = bytes + {size};"
    )
    return [
        "CREATE TRIGGER notes_usage_insert AFTER INSERT ON notes FOR EACH ROW BEGIN "
        + upsert.format(owner="NEW.owner_id", notes=1, size=f"({new})")
        + _MYSQL_CHECK.format(added_notes=1, added_bytes=1)
        + " END",
        "CREATE TRIGGER notes_usage_update AFTER UPDATE ON notes FOR EACH ROW BEGIN "
        + upsert.format(owner="NEW.owner_id", notes=0, size=f"({new} - ({old}))")
        + _MYSQL_CHECK.format(added_notes=0, added_bytes=f"({new} - ({old}))")
        + " END",
        "CREATE TRIGGER notes_usage_delete AFTER DELETE ON notes FOR EACH ROW BEGIN "
        + upsert.format(owner="OLD.owner_id", notes=-1, size=f"(-({old}))")
        + " END",
    ]


def upgrade() -> None:
    with op.batch_alter_table("login_failures") as batch:
        batch.add_column(sa.Column("client", sa.String(64), nullable=False, server_default=""))
    op.create_table(
        "note_usage",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("notes", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_note_usage_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", name=op.f("pk_note_usage")),
        **mysql_table_options(op.get_bind()),
    )
    op.create_table(
        "note_quota",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("max_notes", sa.BigInteger(), nullable=False),
        sa.Column("max_bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_quota")),
        **mysql_table_options(op.get_bind()),
    )
    dialect = op.get_bind().dialect.name
    postgres = dialect == "postgresql"
    size = (
        "length(CAST(title AS BLOB)) + length(CAST(description AS BLOB))"
        if dialect == "sqlite"
        else "octet_length(title) + octet_length(description)"
    )
    op.execute(
        f"INSERT INTO note_usage (owner_id, notes, bytes) "  # noqa: S608 - no input
        f"SELECT owner_id, count(*), coalesce(sum({size}), 0) FROM notes GROUP BY owner_id"
    )
    if postgres:
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER notes_usage AFTER INSERT OR UPDATE OR DELETE ON notes "
            "FOR EACH ROW EXECUTE FUNCTION notes_track_usage()"
        )
    elif dialect == "mysql":
        for trigger in _mysql_triggers():
            op.execute(trigger)
    else:
        for trigger in _sqlite_triggers():
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER notes_usage ON notes")
        op.execute("DROP FUNCTION notes_track_usage()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER notes_usage_{name}")
    op.drop_table("note_quota")
    op.drop_table("note_usage")
    with op.batch_alter_table("login_failures") as batch:
        batch.drop_column("client")
