"""A first-come, first-served gate in front of the connection pool.

SQLAlchemy's ``AsyncAdaptedQueuePool`` is not fair when more units of work want a
connection than it holds: a task that returns a connection can take one again at once
(``get_nowait``) before a waiter wakes, and a waiter that wakes to find the queue empty
again waits anew at the back. Under a sustained overload, a few requests then wait the
whole ``pool_timeout`` and fail while others are served in milliseconds. The gate hands
out as many permits as the pool has connections, and a returned permit goes straight to
the oldest waiter, so waits are as short and as even as the load allows, and the pool
itself never has anyone waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections import deque
from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["FairGate", "add_gate", "gate_for"]


class FairGate:
    """``permits`` permits, handed out in the order they were asked for.

    ``try_acquire`` takes a free permit, if any, without waiting (and is all an
    uncontended checkout costs); ``acquire`` waits for one, at most ``timeout`` seconds
    (``TimeoutError``). ``release`` gives a permit back, directly to the oldest waiter if
    there is one. A waiter cancelled or timed out leaves the queue, and a permit handed to
    it in the meantime goes on to the next one: no permit is ever lost.
    """

    def __init__(self, permits: int, timeout: float) -> None:
        self._free = permits
        self._timeout = timeout
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def free(self) -> int:
        return self._free

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def try_acquire(self) -> bool:
        # While anyone waits there is no free permit: release hands it over instead.
        if self._free > 0:
            self._free -= 1
            return True
        return False

    async def acquire(self) -> None:
        if self.try_acquire():
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        expiry = loop.call_later(self._timeout, _expire, waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Handed a permit, then cancelled before it could be used: pass it on.
                self.release()
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise
        finally:
            expiry.cancel()

    def release(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("no database connection was free in time"))


_GATES: Final[weakref.WeakKeyDictionary[object, FairGate]] = weakref.WeakKeyDictionary()


def add_gate(engine: AsyncEngine, permits: int, timeout: float) -> None:
    """Put a gate of ``permits`` (the pool's size and overflow) in front of ``engine``'s pool;
    ``create_engine`` does, for every pool that can make a caller wait."""
    _GATES[engine.sync_engine] = FairGate(permits, timeout)


def gate_for(engine: AsyncEngine) -> FairGate | None:
    """The gate of ``engine``'s pool (one per engine, however many databases share it), or
    ``None`` for a pool that never makes anyone wait (SQLite's single shared connection)."""
    return _GATES.get(engine.sync_engine)
