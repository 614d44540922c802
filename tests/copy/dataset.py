"""A data set with every kind of record, odd values included, and a way to read a whole
storage back through the ports to compare two of them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from adapters.system import Uuid7Factory
from application import UnitOfWorkFactory
from application.copying import USERS
from application.idempotency import IdempotencyRecord, result_of
from application.transfer import KINDS, user_values
from domain import Description, Note, Tags, Title, User, Username
from domain.sessions import RefreshToken
from tests.support import START

_ids = Uuid7Factory()

Snapshot = dict[str, list[tuple[object, ...]]]


def _user(name: str, minutes: int) -> User:
    return User(
        id=_ids.new_id(),
        username=Username(name),
        password_hash=f"$argon2id$v=19$m=65536,t=3,p=4${name}$hash-of-{name}",
        created_date=START + timedelta(minutes=minutes, microseconds=123457),
    )


def _note(owner: UUID, index: int, *, title: str, description: str, tags: tuple[str, ...]) -> Note:
    return Note.create(
        id=_ids.new_id(),
        owner_id=owner,
        title=Title(title),
        description=Description(description),
        tags=Tags(tags),
        now=START + timedelta(seconds=index, microseconds=index * 7 + 1),
    )


async def fill(uow_factory: UnitOfWorkFactory, *, notes_per_user: int = 7) -> list[User]:
    """Three users (the last one with nothing of theirs) and, for the first two: notes with
    revisions (some pruned), notes in the trash, used, revoked and live refresh tokens, and
    idempotency keys. Returns the users."""
    users = [_user("Alice.A", 0), _user("bob_B", 1), _user("carol", 2)]
    async with uow_factory() as uow:
        for user in users:
            await uow.users.add(user)
        await uow.commit()
    for number, user in enumerate(users[:2]):
        notes = [
            _note(
                user.id,
                index,
                title=f"Note {index} 🦄 of {user.username.value}",
                description=(
                    "ünïcödé, \U0001d518 (4 bytes in UTF-8) and emoji 🧪 " * (index % 5 + 1)
                )
                + ("x" * 100_000)[: 30_000 if index == 0 else 0],
                tags=tuple(f"tag-{t}" for t in range(index % 4)) or (),
            )
            for index in range(notes_per_user)
        ]
        notes.append(
            _note(
                user.id, 99, title="t" * 200, description="", tags=tuple(f"t{t}" for t in range(20))
            )
        )
        async with uow_factory() as uow:
            await uow.notes.add_many(notes)
            await uow.commit()
        # Versions 2..4 of the first note, keeping only the last two revisions.
        first = notes[0]
        for version in range(2, 5):
            edited = first.edited(
                now=START + timedelta(hours=version), title=Title(f"edited {version}")
            )
            async with uow_factory() as uow:
                assert await uow.notes.update(
                    edited, expected_version=first.version, oldest_kept=version - 1
                )
                await uow.commit()
            first = edited
        # Two notes to the trash.
        for trashed in notes[1:3]:
            async with uow_factory() as uow:
                assert await uow.notes.trash(
                    user.id, trashed.id, expected_version=1, at=START + timedelta(days=1)
                )
                await uow.commit()
        async with uow_factory() as uow:
            family = _ids.new_id()
            for index, (used, revoked) in enumerate(((True, False), (False, True), (False, False))):
                await uow.refresh_tokens.add(
                    RefreshToken(
                        id=_ids.new_id(),
                        user_id=user.id,
                        family_id=family,
                        token_hash=f"{number}{index}".ljust(64, "f"),
                        issued_at=START + timedelta(minutes=index),
                        expires_at=START + timedelta(days=30, minutes=index),
                        used_at=START + timedelta(minutes=5) if used else None,
                        revoked_at=START + timedelta(minutes=6) if revoked else None,
                    )
                )
            for key in ("retry-1", "Retry-1", "z" * 255):
                assert (
                    await uow.idempotency_keys.claim(
                        IdempotencyRecord(
                            owner_id=user.id,
                            key=key,
                            fingerprint="a" * 64,
                            result=result_of(notes[3:5]),
                            created_at=START,
                            expires_at=START + timedelta(hours=24),
                        )
                    )
                    is None
                )
            await uow.commit()
    return users


async def snapshot(uow_factory: UnitOfWorkFactory) -> Snapshot:
    """Every stored value of every table, read through the transfer port, sorted."""
    found: Snapshot = {USERS: []}
    found.update({kind.name: [] for kind in KINDS})
    after: UUID | None = None
    while users := await _users(uow_factory, after):
        for user in users:
            found[USERS].append(user_values(user))
            for kind in KINDS:
                async with uow_factory() as uow:
                    records: list[Any] = await uow.transfer.records(
                        kind.name, user.id, after=None, limit=10_000
                    )
                found[kind.name].extend(kind.values(record) for record in records)
        after = users[-1].id
    return {
        name: sorted(rows, key=lambda row: [str(v) for v in row]) for name, rows in found.items()
    }


async def _users(uow_factory: UnitOfWorkFactory, after: UUID | None) -> list[User]:
    async with uow_factory() as uow:
        return await uow.transfer.users(after=after, limit=2)
