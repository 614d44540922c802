"""The SQL record of failed logins."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import login_failures

__all__ = ["SqlLoginFailures"]


class SqlLoginFailures:
    def __init__(self, uow: Session) -> None:
        self._uow = uow

    async def record(
        self, key: str, at: datetime, *, keep_since: datetime, client: str = ""
    ) -> None:
        forget = login_failures.delete().where(
            login_failures.c.username_key == key, login_failures.c.failed_at < keep_since
        )
        await self._uow.execute(forget, write=True)
        await self._uow.execute(
            login_failures.insert().values(username_key=key, failed_at=at, client=client),
            write=True,
        )

    async def since(self, key: str, since: datetime) -> list[datetime]:
        statement = (
            sa.select(login_failures.c.failed_at)
            .where(login_failures.c.username_key == key, login_failures.c.failed_at >= since)
            .order_by(login_failures.c.failed_at)
        )
        return list((await self._uow.execute(statement, write=False)).scalars())

    async def attempts(self, key: str, since: datetime) -> list[tuple[datetime, str]]:
        statement = (
            sa.select(login_failures.c.failed_at, login_failures.c.client)
            .where(login_failures.c.username_key == key, login_failures.c.failed_at >= since)
            .order_by(login_failures.c.failed_at)
        )
        result = await self._uow.execute(statement, write=False)
        return [(row.failed_at, row.client) for row in result]

    async def clear(self, key: str, *, client: str | None = None) -> None:
        statement = login_failures.delete().where(login_failures.c.username_key == key)
        if client is not None:
            statement = statement.where(login_failures.c.client == client)
        await self._uow.execute(statement, write=True)
