"""The SQL repository of personal access tokens: ``personal_tokens``, by ``(owner_id, id)``."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, cast
from uuid import UUID

import sqlalchemy as sa

from adapters.sqlalchemy.session import Session
from adapters.sqlalchemy.tables import personal_tokens
from domain.personal_tokens import USE_RECORDED_EVERY, PersonalToken, Scope

__all__ = ["SqlPersonalTokens", "token_of", "token_row"]

_p = personal_tokens.c
_KEY: Final = (_p.owner_id == sa.bindparam("owner_id"), _p.id == sa.bindparam("token_id"))
_GET: Final = sa.select(*personal_tokens.c).where(*_KEY)
_LIST: Final = (
    sa.select(*personal_tokens.c)
    .where(_p.owner_id == sa.bindparam("owner_id"))
    .order_by(_p.created_date.desc(), _p.id.desc())
)
_DELETE: Final = personal_tokens.delete().where(*_KEY)
_RECORD_USE: Final = (
    personal_tokens.update()
    .where(
        # Not named as columns: SQLAlchemy would SET a column its parameters name.
        _p.owner_id == sa.bindparam("key_owner_id"),
        _p.id == sa.bindparam("key_token_id"),
        sa.or_(_p.last_used_date.is_(None), _p.last_used_date <= sa.bindparam("recorded_before")),
    )
    .values(last_used_date=sa.bindparam("at"))
)


def token_of(row: Mapping[Any, Any]) -> PersonalToken:
    return PersonalToken(
        id=row["id"],
        owner_id=row["owner_id"],
        name=row["name"],
        scopes=frozenset(cast(Scope, s) for s in row["scopes"].split()),
        token_hash=row["token_hash"],
        created_date=row["created_date"],
        expires_date=row["expires_date"],
        last_used_date=row["last_used_date"],
    )


class SqlPersonalTokens:
    def __init__(self, uow: Session) -> None:
        self._uow = uow

    async def add(self, token: PersonalToken) -> None:
        await self._uow.execute(personal_tokens.insert(), token_row(token), write=True)

    async def get(self, owner_id: UUID, token_id: UUID) -> PersonalToken | None:
        row = await self._uow.fetch_one(_GET, {"owner_id": owner_id, "token_id": token_id})
        return None if row is None else token_of(row)

    async def list(self, owner_id: UUID) -> builtins.list[PersonalToken]:
        rows = await self._uow.fetch_all(_LIST, {"owner_id": owner_id})
        return [token_of(row) for row in rows]

    async def delete(self, owner_id: UUID, token_id: UUID) -> bool:
        parameters = {"owner_id": owner_id, "token_id": token_id}
        return bool((await self._uow.execute(_DELETE, parameters, write=True)).rowcount == 1)

    async def record_use(self, owner_id: UUID, token_id: UUID, at: datetime) -> None:
        parameters = {
            "key_owner_id": owner_id,
            "key_token_id": token_id,
            "at": at,
            "recorded_before": at - USE_RECORDED_EVERY,
        }
        await self._uow.execute(_RECORD_USE, parameters, write=True)

    async def forget_expired(self, before: datetime) -> int:
        # Across owners: a maintenance sweep.
        statement = personal_tokens.delete().where(_p.expires_date < before)
        return int((await self._uow.execute(statement, write=True)).rowcount)


def token_row(token: PersonalToken) -> dict[str, Any]:
    """The ``personal_tokens`` row of ``token``."""
    return {
        "owner_id": token.owner_id,
        "id": token.id,
        "name": token.name,
        "scopes": " ".join(sorted(token.scopes)),
        "token_hash": token.token_hash,
        "created_date": token.created_date,
        "expires_date": token.expires_date,
        "last_used_date": token.last_used_date,
    }
