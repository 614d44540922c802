"""Deterministic stand-ins for the clock and the id factory, and a note builder."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

from adapters.security import Argon2PasswordHasher
from adapters.system import Uuid7Factory
from application import UnitOfWorkFactory
from domain import Description, Note, Tags, Title, User, Username

START = datetime(2026, 11, 22, 10, 15, tzinfo=UTC)

# Two users every backend knows in the contract suite (see tests/contract/conftest.py).
ALICE = UUID("01900000-0000-7000-8000-00000000a11c")
BOB = UUID("01900000-0000-7000-8000-000000000b0b")


class SteppingClock:
    """A clock that moves one millisecond every time it is read."""

    def __init__(
        self, start: datetime = START, step: timedelta = timedelta(milliseconds=1)
    ) -> None:
        self.current = start
        self.step = step

    def now(self) -> datetime:
        self.current += self.step
        return self.current


_ids = Uuid7Factory()


def make_note(
    title: str = "Groceries",
    description: str = "milk, eggs, sourdough",
    tags: Sequence[str] = ("home",),
    *,
    created: datetime = START,
    note_id: UUID | None = None,
    owner_id: UUID = ALICE,
) -> Note:
    return Note.create(
        id=note_id or _ids.new_id(),
        owner_id=owner_id,
        title=Title(title),
        description=Description(description),
        tags=Tags(tuple(tags)),
        now=created,
    )


class ManualClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, by: timedelta) -> None:
        self.current += by


def fast_password_hasher() -> Argon2PasswordHasher:
    """Real Argon2id, with parameters cheap enough for tests (never for production)."""
    return Argon2PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1)


async def register_owners(uow_factory: UnitOfWorkFactory) -> None:
    """Register ``ALICE`` and ``BOB`` as users, so notes may belong to them on every backend."""
    async with uow_factory() as uow:
        for user_id, name in ((ALICE, "owner-alice"), (BOB, "owner-bob")):
            await uow.users.add(
                User(id=user_id, username=Username(name), password_hash="-", created_date=START)
            )
        await uow.commit()
