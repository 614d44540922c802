"""The SQL repositories for users, refresh tokens and failed logins."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping

from adapters.sqlalchemy.tables import idempotency_keys, login_failures, refresh_tokens, users
from application.idempotency import IdempotencyRecord
from domain import User, Username
from domain.sessions import RefreshToken

if TYPE_CHECKING:
    from adapters.sqlalchemy.database import SqlUnitOfWork

__all__ = [
    "SqlIdempotencyKeys",
    "SqlLoginFailures",
    "SqlRefreshTokenRepository",
    "SqlUserRepository",
]


def _to_user(row: RowMapping) -> User:
    return User(
        id=row["id"],
        username=Username(row["username"]),
        password_hash=row["password_hash"],
        created_date=row["created_date"],
    )


class SqlUserRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
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

    async def _one(self, condition: sa.ColumnElement[bool]) -> User | None:
        result = await self._uow.execute(sa.select(users).where(condition), write=False)
        row = result.mappings().first()
        return None if row is None else _to_user(row)


def _to_token(row: RowMapping) -> RefreshToken:
    return RefreshToken(**{column.name: row[column.name] for column in refresh_tokens.c})


class SqlRefreshTokenRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def add(self, token: RefreshToken) -> None:
        values = {column.name: getattr(token, column.name) for column in refresh_tokens.c}
        await self._uow.execute(refresh_tokens.insert().values(values), write=True)

    async def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> RefreshToken | None:
        statement = sa.select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        if for_update:
            statement = statement.with_for_update()
        row = (await self._uow.execute(statement, write=for_update)).mappings().first()
        return None if row is None else _to_token(row)

    async def save(self, token: RefreshToken) -> None:
        statement = (
            refresh_tokens.update()
            .where(refresh_tokens.c.id == token.id)
            .values(used_at=token.used_at, revoked_at=token.revoked_at)
        )
        await self._uow.execute(statement, write=True)

    async def revoke_family(self, family_id: UUID, at: datetime) -> None:
        statement = (
            refresh_tokens.update()
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        await self._uow.execute(statement, write=True)


class SqlLoginFailures:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def record(self, key: str, at: datetime, *, keep_since: datetime) -> None:
        forget = login_failures.delete().where(
            login_failures.c.username_key == key, login_failures.c.failed_at < keep_since
        )
        await self._uow.execute(forget, write=True)
        await self._uow.execute(
            login_failures.insert().values(username_key=key, failed_at=at), write=True
        )

    async def since(self, key: str, since: datetime) -> list[datetime]:
        statement = (
            sa.select(login_failures.c.failed_at)
            .where(login_failures.c.username_key == key, login_failures.c.failed_at >= since)
            .order_by(login_failures.c.failed_at)
        )
        return list((await self._uow.execute(statement, write=False)).scalars())

    async def clear(self, key: str) -> None:
        statement = login_failures.delete().where(login_failures.c.username_key == key)
        await self._uow.execute(statement, write=True)


class SqlIdempotencyKeys:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        values = {column.name: getattr(record, column.name) for column in idempotency_keys.c}
        dialect_insert = postgresql.insert if self._uow.dialect == "postgresql" else sqlite.insert
        # ON CONFLICT DO NOTHING waits for a concurrent claim of the same key to end, then
        # does nothing if that one committed.
        statement = (
            dialect_insert(idempotency_keys)
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
