"""Usage at commit: on PostgreSQL the quota trigger runs when the transaction commits.

The trigger of ``0004`` upserted the owner's ``note_usage`` row in the statement that changed a
note, so that row stayed locked from then until the commit: a round trip later, at best. Every
other write of the same owner waited that long, and concurrent edits of one owner's notes ran
one at a time at the pace of the client's round trips. As a constraint trigger deferred to the
commit, the same function takes the row's lock while committing and keeps it only for the
commit itself. The quota is still checked before anything is committed: a write past it fails
at ``COMMIT`` (SQLSTATE NQ001/NQ002), which the port allows (``QuotaExceeded`` on ``commit()``
at the latest). A deletion only updates the usage row: when the owner was deleted in the
same transaction, their usage row went with them and there is nothing to count down.
SQLite serialises writers anyway and keeps its triggers.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

_DELETE_COUNTS_DOWN = """
CREATE OR REPLACE FUNCTION notes_track_usage() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF TG_OP = 'DELETE' THEN
        UPDATE note_usage SET notes = notes + added_notes, bytes = bytes + added_bytes
            WHERE owner_id = OLD.owner_id;
        RETURN NULL;
    END IF;
    added_notes := added_notes + 1;
    added_bytes := added_bytes + octet_length(NEW.title) + octet_length(NEW.description);
    INSERT INTO note_usage AS u (owner_id, notes, bytes)
    VALUES (NEW.owner_id, added_notes, added_bytes)
    ON CONFLICT (owner_id) DO UPDATE
        SET notes = u.notes + EXCLUDED.notes, bytes = u.bytes + EXCLUDED.bytes
    RETURNING notes, bytes INTO used;
    SELECT max_notes, max_bytes INTO limits FROM note_quota WHERE id = 1;
    IF FOUND AND added_notes > 0 AND used.notes > limits.max_notes THEN
        RAISE EXCEPTION 'notes quota: notes' USING ERRCODE = 'NQ001';
    END IF;
    IF FOUND AND added_bytes > 0 AND used.bytes > limits.max_bytes THEN
        RAISE EXCEPTION 'notes quota: bytes' USING ERRCODE = 'NQ002';
    END IF;
    RETURN NULL;
END
$$
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER notes_usage ON notes")
    op.execute(_DELETE_COUNTS_DOWN)
    op.execute(
        "CREATE CONSTRAINT TRIGGER notes_usage AFTER INSERT OR UPDATE OR DELETE ON notes "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION notes_track_usage()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER notes_usage ON notes")
    op.execute(
        "CREATE TRIGGER notes_usage AFTER INSERT OR UPDATE OR DELETE ON notes "
        "FOR EACH ROW EXECUTE FUNCTION notes_track_usage()"
    )
