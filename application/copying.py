"""Copying a whole storage into another through the ports, and checking the copy.

``Copy`` reads the source a page at a time (users by id, then each owner's records of each
kind, by key) and writes the target in batches, one unit of work per batch, while it reads
the next page: what it holds at once is bounded by the page and batch sizes, whatever the
size of the storage. ``verify`` reads both sides again and compares, per table, the count
and a checksum of every stored value, computed the same way on both sides from what the
ports return: a record missing, added or changed on either side shows.

The copy is not a snapshot: a source written to while it runs may differ from the copy,
and ``verify`` then says so. Copy from a service that is stopped (or not writing).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from uuid import UUID

from application.ports import UnitOfWorkFactory
from application.transfer import KINDS, user_values

__all__ = ["USERS", "Copy", "Digest", "TableCheck"]

USERS: Final = "users"
"""The name the users go by in counts and checks, beside the ``KINDS``."""

_MODULUS: Final = 1 << 256
_DONE: Final = None

_Queue = asyncio.Queue[tuple[str, Sequence[Any]] | None]

Progress = Callable[[str, int], None]
"""Told ``(table, how many more records were written)`` as batches commit."""


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def _plain(value: object) -> object:
    """What JSON cannot hold, as JSON: an id as its hex digits, a moment (which the ports
    give with its time zone) as the microseconds since 1970 UTC."""
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, datetime):
        return (value - _EPOCH) // _MICROSECOND
    raise TypeError(f"{type(value).__name__} has no place in a checksum")


# The encoder walks the values (tuples as lists) and asks ``_plain`` only for ids and moments.
_ENCODE: Final = json.JSONEncoder(separators=(",", ":"), default=_plain).encode


def _record_digest(values: tuple[object, ...]) -> int:
    return int.from_bytes(hashlib.sha256(_ENCODE(values).encode()).digest(), "big")


@dataclass(frozen=True, slots=True)
class Digest:
    """What one side holds in one table: how many records, and the sum of their SHA-256
    digests modulo 2**256 (in hex), which does not depend on the order they are read in."""

    count: int = 0
    checksum: str = "0" * 64


@dataclass(frozen=True, slots=True)
class TableCheck:
    """One table's digest on both sides."""

    name: str
    source: Digest
    target: Digest

    @property
    def matches(self) -> bool:
        return self.source == self.target


class _Summer:
    def __init__(self) -> None:
        self.count = 0
        self.total = 0

    def add(self, values: tuple[object, ...]) -> None:
        self.count += 1
        self.total = (self.total + _record_digest(values)) % _MODULUS

    def digest(self) -> Digest:
        return Digest(self.count, f"{self.total:064x}")


class Copy:
    """Copies everything ``source`` holds into ``target`` (``copy``), empties the target
    (``empty_target``), and compares the two (``verify``).

    ``page_size`` records are read at a time; ``batch_size`` records of a kind are written
    per unit of work, and up to ``writers`` such units of work at once (give more than one
    only for a target that writes concurrently: the batches of one table then overlap).
    ``progress`` is told of every batch written.
    """

    def __init__(
        self,
        source: UnitOfWorkFactory,
        target: UnitOfWorkFactory,
        *,
        page_size: int = 1000,
        batch_size: int = 1000,
        writers: int = 1,
        progress: Progress | None = None,
    ) -> None:
        if page_size < 1 or batch_size < 1 or writers < 1:
            raise ValueError("page and batch sizes, and writers, are at least 1")
        self._source = source
        self._target = target
        self._page_size = page_size
        self._batch_size = batch_size
        self._writers = writers
        self._progress = progress or (lambda _table, _count: None)

    async def target_holds_data(self) -> bool:
        async with self._target() as uow:
            return await uow.transfer.holds_users()

    async def empty_target(self) -> int:
        """Delete every user of the target with everything of theirs; how many users."""
        removed = 0
        while True:
            async with self._target() as uow:
                users = await uow.transfer.users(after=None, limit=self._page_size)
            if not users:
                return removed
            for user in users:
                async with self._target() as uow:
                    await uow.transfer.remove_owner(user.id)
                    await uow.commit()
                removed += 1

    async def copy(self) -> dict[str, int]:
        """Copy every user and every record; how many of each table were written."""
        queue: _Queue = asyncio.Queue(maxsize=2)
        writer = asyncio.create_task(self._write(queue))
        try:
            await self._read(queue, writer)
            await queue.put(_DONE)
            return await writer
        finally:
            if not writer.done():
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)

    async def _read(self, queue: _Queue, writer: asyncio.Task[Any]) -> None:
        async def send(table: str, batch: Sequence[Any]) -> None:
            # The writer's failure ends the copy at once, not when the queue is full.
            put = asyncio.ensure_future(queue.put((table, batch)))
            await asyncio.wait({put, writer}, return_when=asyncio.FIRST_COMPLETED)
            if writer.done():
                put.cancel()
                writer.result()  # raises the writer's failure
                raise RuntimeError("the writer stopped before the copy ended")

        buffers: dict[str, list[Any]] = {kind.name: [] for kind in KINDS}
        async for table, page in self._pages(self._source):
            if table == USERS:
                # Before any record of theirs: the queue keeps the order.
                await send(USERS, page)
                continue
            buffer = buffers[table]
            buffer.extend(page)
            while len(buffer) >= self._batch_size:
                await send(table, buffer[: self._batch_size])
                del buffer[: self._batch_size]
        for table, buffer in buffers.items():
            if buffer:
                await send(table, buffer)

    async def _pages(self, side: UnitOfWorkFactory) -> AsyncIterator[tuple[str, list[Any]]]:
        """Everything ``side`` holds, a page at a time: a page of users, then each of those
        users' records, kind by kind, then the next page of users."""
        after: UUID | None = None
        while True:
            async with side() as uow:
                users = await uow.transfer.users(after=after, limit=self._page_size)
            if not users:
                return
            yield USERS, users
            for user in users:
                for kind in KINDS:
                    key = None
                    while True:
                        async with side() as uow:
                            page = await uow.transfer.records(
                                kind.name, user.id, after=key, limit=self._page_size
                            )
                        if page:
                            yield kind.name, page
                        if len(page) < self._page_size:
                            break
                        key = kind.key(page[-1])
            after = users[-1].id

    async def _write(self, queue: _Queue) -> dict[str, int]:
        """Write the batches queued, each in a unit of work of its own, up to ``writers``
        at once: batches of one table may be in flight together (a batch's rows and
        statements, then its commit, overlap the next's), but a batch of another table
        starts once every batch before it has committed, so a record never goes in before
        what it refers to (its owner, its note). A failed batch fails the copy."""
        written = {USERS: 0, **{kind.name: 0 for kind in KINDS}}
        in_flight: set[asyncio.Task[tuple[str, int]]] = set()
        flying_table: str | None = None

        async def settle(*, every: bool) -> None:
            done, _ = await asyncio.wait(
                in_flight,
                return_when=asyncio.ALL_COMPLETED if every else asyncio.FIRST_COMPLETED,
            )
            for task in done:
                in_flight.discard(task)
                table, count = task.result()  # raises the batch's failure
                written[table] += count
                self._progress(table, count)

        try:
            while (item := await queue.get()) is not _DONE:
                table, batch = item
                if in_flight and table != flying_table:
                    await settle(every=True)
                while len(in_flight) >= self._writers:
                    await settle(every=False)
                flying_table = table
                in_flight.add(asyncio.create_task(self._write_batch(table, batch)))
            if in_flight:
                await settle(every=True)
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
        return written

    async def _write_batch(self, table: str, batch: Sequence[Any]) -> tuple[str, int]:
        async with self._target() as uow:
            if table == USERS:
                await uow.transfer.add_users(batch)
            else:
                await uow.transfer.add_records(table, batch)
            await uow.commit()
        return table, len(batch)

    async def verify(self) -> list[TableCheck]:
        """Each table's digest on both sides, users first, then the ``KINDS``."""
        source, target = await asyncio.gather(
            self._digests(self._source), self._digests(self._target)
        )
        return [TableCheck(name, source[name], target[name]) for name in source]

    async def _digests(self, side: UnitOfWorkFactory) -> dict[str, Digest]:
        summers = {USERS: _Summer(), **{kind.name: _Summer() for kind in KINDS}}
        values = {USERS: user_values, **{kind.name: kind.values for kind in KINDS}}
        async for table, page in self._pages(side):
            summer, values_of = summers[table], values[table]
            for record in page:
                summer.add(values_of(record))
        return {name: summer.digest() for name, summer in summers.items()}
