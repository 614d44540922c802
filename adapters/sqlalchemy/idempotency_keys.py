"""The SQL store of idempotency keys."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from adapters.sqlalchemy.dialects import insert_on_conflict
from adapters.sqlalchemy.errors import duplicate_key
from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import idempotency_keys
from application.errors import Conflict
from application.idempotency import IdempotencyRecord

__all__ = ["SqlIdempotencyKeys"]


class SqlIdempotencyKeys:
    def __init__(self, uow: Session) -> None:
        self._uow = uow

    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        values = {column.name: getattr(record, column.name) for column in idempotency_keys.c}
        if self._uow.dialect == "mysql":
            if not await self._inserted(values):
                return await self._claimed(record)
            return None
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
        return await self._claimed(record)

    async def _inserted(self, values: dict[str, object]) -> bool:
        """MySQL: insert the claim; ``False`` if the key is taken. An ``INSERT`` of a key a
        concurrent transaction inserted waits for it to end, as ``ON CONFLICT`` does; the
        duplicate key then fails that statement alone, not the transaction."""
        try:
            await self._uow.execute(idempotency_keys.insert().values(values), write=True)
        except Conflict as conflict:
            if not duplicate_key(conflict.__cause__):
                raise
            return False
        return True

    async def _claimed(self, record: IdempotencyRecord) -> IdempotencyRecord:
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
