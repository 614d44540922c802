"""The SQL event log: ``note_events``, numbered per owner from ``note_event_heads``.

The owner's head row hands out the numbers, and whoever takes one holds that row locked until
its transaction ends: a second writer for the same owner waits, so numbers are handed out in
commit order.

On PostgreSQL the number is taken while the transaction commits (migration ``0011``): an event
is written under a provisional number, negative and unique, and a deferred constraint trigger
takes the owner's next number and renumbers the event, so the head row is locked only for the
commit itself. The unit of work holds appended events back (``Session.append_event``) until
its next statement or its commit; a write of a note takes its event along, as one more branch
of its own statement (``with_event``), so recording the event costs no round trip. Events
that no write took along are sent before the next statement, in one insert.

SQLite and MySQL take the numbers when the events are sent: one head upsert per owner
(``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on SQLite, whose writer holds the database's
write lock anyway; ``INSERT … ON DUPLICATE KEY UPDATE seq = seq + n`` on MySQL, which
row-locks the head just the same, its number then read in the same transaction), then one
insert of them all.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any, Final, cast
from uuid import UUID

import sqlalchemy as sa

from adapters.sqlalchemy.dialects import insert_on_conflict, mysql_upsert
from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import note_event_heads, note_events
from application.events import EventKind, NoteEvent

__all__ = ["SqlEventLog", "event_row", "flush_events", "with_event"]

_e = note_events.c
_EVENT_PARAMETERS: Final = ("note_id", "kind", "version", "at")


def _head_upsert(taken: dict[str, Any], dialect: str) -> Any:
    """``INSERT INTO note_event_heads (owner, n) … ON CONFLICT DO UPDATE SET seq = seq + n
    RETURNING owner_id, seq``: the owner's last number after taking ``n`` more."""
    insert = insert_on_conflict(note_event_heads, dialect).values(taken)
    return insert.on_conflict_do_update(
        index_elements=[note_event_heads.c.owner_id],
        set_={"seq": note_event_heads.c.seq + insert.excluded.seq},
    ).returning(note_event_heads.c.owner_id, note_event_heads.c.seq)


_PROVISIONAL: Final = sa.literal_column("-nextval('note_event_pending')", sa.BigInteger())
"""PostgreSQL: a provisional number, which the commit replaces with the owner's next one."""


def with_event(statement: Any, written: sa.CTE | None = None) -> Any:
    """PostgreSQL: ``statement`` with one more CTE branch that records one event, bound as
    ``event_note_id``, ``event_kind``, ``event_version``, ``event_at``, under a provisional
    number. With ``written`` (a CTE returning the written note's ``owner_id``), the event is
    recorded only if that CTE returned a row; without it, for the owner bound as
    ``event_owner_id``."""
    if written is not None:
        owner: Any = written.c.owner_id
    else:
        owner = sa.bindparam("event_owner_id", type_=sa.Uuid())
    recorded = (
        note_events.insert()
        .from_select(
            ["owner_id", "seq", *_EVENT_PARAMETERS],
            sa.select(
                owner,
                _PROVISIONAL,
                *(sa.bindparam(f"event_{name}", type_=_e[name].type) for name in _EVENT_PARAMETERS),
            ),
        )
        .returning(_e.seq)
        .cte("event_recorded")
    )
    return statement.add_cte(recorded)


_ONE_EVENT: Final = with_event(sa.select(sa.literal_column("1")))
_PROVISIONAL_EVENTS: Final = note_events.insert().values(
    owner_id=sa.bindparam("event_owner_id", type_=sa.Uuid()),
    seq=_PROVISIONAL,
    **{name: sa.bindparam(f"event_{name}", type_=_e[name].type) for name in _EVENT_PARAMETERS},
)


def event_row(
    owner_id: UUID, note_id: UUID, kind: EventKind, version: int, at: datetime
) -> dict[str, Any]:
    """An event held back, bound as ``with_event`` binds it (``event_owner_id`` included)."""
    return {
        "event_owner_id": owner_id,
        "event_note_id": note_id,
        "event_kind": kind,
        "event_version": version,
        "event_at": at,
    }


async def flush_events(session: Session, events: Sequence[dict[str, Any]]) -> None:
    """Record held-back ``event_row``s: on PostgreSQL in one statement, under provisional
    numbers; elsewhere a head upsert per owner, then one insert of them all."""
    if not events:
        return
    if session.dialect == "postgresql":
        if len(events) == 1:
            await session.execute(_ONE_EVENT, events[0], write=True)
        else:
            await session.execute(_PROVISIONAL_EVENTS, list(events), write=True)
        return
    rows: list[dict[str, Any]] = []
    for owner_id, group in groupby(events, key=lambda event: event["event_owner_id"]):
        owned = list(group)
        taken = {"owner_id": owner_id, "seq": len(owned)}
        last = await _take(session, taken)
        first = last - len(owned) + 1
        rows.extend(
            {
                "owner_id": owner_id,
                "seq": first + index,
                **{name: event[f"event_{name}"] for name in _EVENT_PARAMETERS},
            }
            for index, event in enumerate(owned)
        )
    await session.execute(note_events.insert(), rows, write=True)


_LAST: Final = sa.select(note_event_heads.c.seq).where(
    note_event_heads.c.owner_id == sa.bindparam("owner_id")
)
_MYSQL_HEAD: Final = mysql_upsert(note_event_heads)
_MYSQL_TAKE: Final = _MYSQL_HEAD.on_duplicate_key_update(
    seq=note_event_heads.c.seq + _MYSQL_HEAD.inserted.seq
)


async def _take(session: Session, taken: dict[str, Any]) -> int:
    """Take ``taken["seq"]`` more numbers from the owner's head, locking it until the
    transaction ends; the owner's last number after them."""
    if session.dialect != "mysql":
        result = await session.execute(_head_upsert(taken, session.dialect), write=True)
        return int(result.mappings().one()["seq"])
    await session.execute(_MYSQL_TAKE, taken, write=True)
    result = await session.execute(_LAST, {"owner_id": taken["owner_id"]}, write=True)
    return int(result.mappings().one()["seq"])


_COLUMNS: Final = (_e.owner_id, _e.seq, _e.note_id, _e.kind, _e.version, _e.at)
_AFTER: Final = (
    sa.select(*_COLUMNS)
    .where(_e.owner_id == sa.bindparam("owner_id"), _e.seq > sa.bindparam("seq"))
    .order_by(_e.seq)
    .limit(sa.bindparam("limit"))
)
_OLDEST: Final = sa.select(sa.func.min(_e.seq).label("seq")).where(
    _e.owner_id == sa.bindparam("owner_id")
)


def _to_event(row: Mapping[Any, Any]) -> NoteEvent:
    return NoteEvent(
        owner_id=row["owner_id"],
        seq=int(row["seq"]),
        note_id=row["note_id"],
        kind=cast(EventKind, row["kind"]),
        version=row["version"],
        at=row["at"],
    )


class SqlEventLog:
    """The event log in ``note_events`` (see the module docstring)."""

    def __init__(self, uow: Session) -> None:
        self._uow = uow

    async def append(
        self, owner_id: UUID, note_id: UUID, kind: EventKind, version: int, at: datetime
    ) -> None:
        self._uow.append_event(event_row(owner_id, note_id, kind, version, at))

    async def after(self, owner_id: UUID, seq: int, *, limit: int) -> builtins.list[NoteEvent]:
        rows = await self._uow.fetch_all(_AFTER, {"owner_id": owner_id, "seq": seq, "limit": limit})
        return [_to_event(row) for row in rows]

    async def oldest_kept(self, owner_id: UUID) -> int | None:
        row = await self._uow.fetch_one(_OLDEST, {"owner_id": owner_id})
        return None if row is None or row["seq"] is None else int(row["seq"])

    async def last(self, owner_id: UUID) -> int:
        row = await self._uow.fetch_one(_LAST, {"owner_id": owner_id})
        return 0 if row is None else int(row["seq"])

    async def prune(self, before: datetime) -> int:
        # Across owners: a maintenance sweep. Head rows stay: numbers never go back.
        result = await self._uow.execute(note_events.delete().where(_e.at < before), write=True)
        return int(result.rowcount)
