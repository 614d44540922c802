"""Storage that fails part-way through a bulk write: a real adapter with a fault injected."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from application import StorageUnavailable, UnitOfWork, UnitOfWorkFactory
from domain import Note


class _FailingNotes:
    def __init__(self, real: Any, fail_at_row: int) -> None:
        self._real = real
        self._fail_at_row = fail_at_row

    async def add_many(self, notes: Sequence[Note]) -> None:
        # The rows before the failing one really reach the storage, inside the transaction.
        await self._real.add_many(list(notes[: self._fail_at_row - 1]))
        raise StorageUnavailable(f"connection lost while writing row {self._fail_at_row}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _FailingUnitOfWork:
    def __init__(self, real: UnitOfWork, fail_at_row: int) -> None:
        self._real = real
        self._fail_at_row = fail_at_row

    async def __aenter__(self) -> Self:
        await self._real.__aenter__()
        self.notes = _FailingNotes(self._real.notes, self._fail_at_row)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._real.__aexit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def failing_bulk_writes(factory: UnitOfWorkFactory, *, at_row: int) -> UnitOfWorkFactory:
    """``factory``'s units of work, whose bulk adds fail at row ``at_row``."""
    return lambda: _FailingUnitOfWork(factory(), at_row)  # type: ignore[return-value]
