"""The SQL sweep of what has outlived its use: old failed logins, expired refresh tokens
and idempotency keys, across every user."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import idempotency_keys, login_failures, refresh_tokens

__all__ = ["SqlRetention"]


class SqlRetention:
    def __init__(self, uow: Session) -> None:
        self._uow = uow

    async def forget_login_failures(self, before: datetime) -> int:
        return await self._delete(login_failures, login_failures.c.failed_at < before)

    async def forget_refresh_tokens(self, expired_before: datetime) -> int:
        return await self._delete(refresh_tokens, refresh_tokens.c.expires_at < expired_before)

    async def forget_idempotency_keys(self, expired_before: datetime) -> int:
        return await self._delete(idempotency_keys, idempotency_keys.c.expires_at < expired_before)

    async def _delete(self, table: sa.Table, condition: sa.ColumnElement[bool]) -> int:
        result = await self._uow.execute(table.delete().where(condition), write=True)
        return int(result.rowcount)
