"""Events numbered at commit: on PostgreSQL an event gets its number while its transaction commits.

Until now the statement that recorded an event took the owner's next number from
``note_event_heads`` at once, and that row stayed locked until the transaction ended: at best
a round trip later, and longer when the client was busy. Every other write of the same owner
waited that long. Now the statement inserts the event under a provisional number, negative and
unique (``-nextval('note_event_pending')``), and a constraint trigger deferred to the commit
takes the owner's next number and renumbers the event with it. The head row is locked only for
the commit itself, and numbers are still handed out in commit order: the lock is held until the
transaction is visible. Readers ask for numbers above a cursor that is never negative, and a
provisional number never outlives its transaction.

The trigger first locks the owner's ``note_usage`` row, which the usage trigger (``0010``) locks
at the same commit: two committing writers of one owner take the two rows in the same order and
cannot deadlock. A row given its number already (a copy keeps its numbers) is left as it is.
MySQL and SQLite take the number when the event is written, as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

_NUMBER = """
CREATE FUNCTION note_events_number() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    taken bigint;
BEGIN
    PERFORM 1 FROM note_events WHERE owner_id = NEW.owner_id AND seq = NEW.seq;
    IF NOT FOUND THEN
        RETURN NULL;  -- gone with its owner in the same transaction
    END IF;
    PERFORM 1 FROM note_usage WHERE owner_id = NEW.owner_id FOR UPDATE;
    INSERT INTO note_event_heads AS h (owner_id, seq) VALUES (NEW.owner_id, 1)
    ON CONFLICT (owner_id) DO UPDATE SET seq = h.seq + 1
    RETURNING seq INTO taken;
    UPDATE note_events SET seq = taken WHERE owner_id = NEW.owner_id AND seq = NEW.seq;
    RETURN NULL;
END
$$
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE note_event_pending")
    op.execute(_NUMBER)
    op.execute(
        "CREATE CONSTRAINT TRIGGER note_events_number AFTER INSERT ON note_events "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.seq < 0) "
        "EXECUTE FUNCTION note_events_number()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER note_events_number ON note_events")
    op.execute("DROP FUNCTION note_events_number()")
    op.execute("DROP SEQUENCE note_event_pending")
