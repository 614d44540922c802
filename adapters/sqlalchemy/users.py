"""The SQL repository of users."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import users
from domain import User, Username

__all__ = ["SqlUserRepository"]


def _to_user(row: RowMapping) -> User:
    return User(
        id=row["id"],
        username=Username(row["username"]),
        password_hash=row["password_hash"],
        created_date=row["created_date"],
    )


class SqlUserRepository:
    def __init__(self, uow: Session) -> None:
        self._uow = uow

    async def add(self, user: User) -> None:
        row = {
            "id": user.id,
            "username": user.username.value,
            "username_key": user.username.key,
            "password_hash": user.password_hash,
            "created_date": user.created_date,
        }
        await self._uow.execute(users.insert().values(row), write=True)

    async def get(self, user_id: UUID) -> User | None:
        return await self._one(users.c.id == user_id)

    async def get_by_username(self, key: str) -> User | None:
        return await self._one(users.c.username_key == key)

    async def usernames(self, user_ids: Sequence[UUID]) -> dict[UUID, str]:
        statement = sa.select(users.c.id, users.c.username).where(users.c.id.in_(list(user_ids)))
        result = await self._uow.execute(statement, write=False)
        return {row.id: row.username for row in result}

    async def _one(self, condition: sa.ColumnElement[bool]) -> User | None:
        result = await self._uow.execute(sa.select(users).where(condition), write=False)
        row = result.mappings().first()
        return None if row is None else _to_user(row)
