"""Usage at commit: on PostgreSQL the quota trigger runs when the transaction commits.

The trigger of ``0004`` upserted the owner's ``note_usage`` row in the statement that changed a
note, so that row stayed locked from then until the commit: a round trip later, at best. Every
other write of the same owner waited that long, and concurrent edits of one owner's notes ran
one at a time at the pace of the client's round trips. As a constraint trigger deferred to the
commit, the same function takes the row's lock while committing and keeps it only for the
commit itself. The quota is still checked before anything is committed: a write past it fails
at ``COMMIT`` (SQLSTATE NQ001/NQ002), which the port allows (``QuotaExceeded`` on ``commit()``
at the latest). SQLite serialises writers anyway and keeps its triggers.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER notes_usage ON notes")
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
