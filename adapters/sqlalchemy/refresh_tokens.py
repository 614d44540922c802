"""The SQL repository of refresh tokens."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import refresh_tokens
from domain.sessions import RefreshToken

__all__ = ["SqlRefreshTokenRepository"]


def _to_token(row: RowMapping) -> RefreshToken:
    return RefreshToken(**{column.name: row[column.name] for column in refresh_tokens.c})


class SqlRefreshTokenRepository:
    def __init__(self, uow: Session) -> None:
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
