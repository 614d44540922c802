"""The SQL store of idempotency keys."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from adapters.sqlalchemy.dialects import insert_on_conflict
from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import idempotency_keys
from application.idempotency import IdempotencyRecord

__all__ = ["SqlIdempotencyKeys"]


class SqlIdempotencyKeys:
    def __init__(self, uow: Session) -> None:
        self._uow = uow

    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        values = {column.name: getattr(record, column.name) for column in idempotency_keys.c}
        # ON CONFLICT DO NOTHING waits for a concurrent claim of the same key to end, then
        # does nothing if that one committed.
        statement = (
            insert_on_conflict(idempotency_keys, self._uow.dialect)
            .values(values)
            .on_conflict_do_nothing(index_elements=["owner_id", "key"])
            .returning(idempotency_keys.c.key)
        )
        if (await self._uow.execute(statement, write=True)).first() is not None:
            return None
        found = await self._uow.execute(
            sa.select(idempotency_keys).where(
                idempotency_keys.c.owner_id == record.owner_id, idempotency_keys.c.key == record.key
            ),
            write=True,
        )
        row = found.mappings().one()
        return IdempotencyRecord(**{column.name: row[column.name] for column in idempotency_keys.c})

    async def forget_expired(self, owner_id: UUID, now: datetime) -> None:
        statement = idempotency_keys.delete().where(
            idempotency_keys.c.owner_id == owner_id, idempotency_keys.c.expires_at <= now
        )
        await self._uow.execute(statement, write=True)
