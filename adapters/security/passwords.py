"""Argon2id password hashing, run in worker threads so it never blocks the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from application.errors import Overloaded
from domain import Password

__all__ = ["Argon2PasswordHasher"]

T = TypeVar("T")
_NICENESS = 10


def _lower_priority() -> None:
    """Run this (hashing) thread at a lower priority than the event loop's, where the
    platform allows it per thread (Linux, where a thread is a task of its own)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _NICENESS)


class Argon2PasswordHasher:
    """Argon2id, 3 passes over 64 MiB (the memory and passes of RFC 9106's second
    recommended profile, above OWASP's minimum), one lane, unless told otherwise.

    Hashing is deliberately slow (tens of milliseconds of CPU), so it is kept from competing
    with the event loop, not just moved off it: it runs in a pool of its own with one thread
    fewer than there are cores, each hash on one thread (one lane; more lanes would start
    threads of their own), and on Linux those threads run at a lower priority. A burst of
    logins queues in the pool while the loop keeps a core, and the scheduler's preference,
    for every other request. Hashes made with other parameters still verify: Argon2 reads
    them from the hash.

    At most ``max_pending`` hashes wait or run at once; beyond that a call raises
    ``Overloaded`` at once rather than queueing behind minutes of work. A call cancelled
    while its hash is still queued (its client hung up) takes the hash out of the queue.
    """

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost_kib: int = 65_536,
        parallelism: int = 1,
        threads: int | None = None,
        max_pending: int = 32,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        self._max_pending = max_pending
        self._pending = 0
        self._pool = ThreadPoolExecutor(
            max_workers=threads or max(1, (os.cpu_count() or 1) - 1),
            thread_name_prefix="argon2",
            initializer=_lower_priority,
        )

    async def hash(self, password: Password) -> str:
        return await self._run(self._hasher.hash, password.secret)

    async def verify(self, password_hash: str, password: Password) -> bool:
        return await self._run(self._check, password_hash, password.secret)

    async def verify_nothing(self, password: Password) -> None:
        await self._run(self._check, self._decoy, password.secret)

    @cached_property
    def _decoy(self) -> str:
        return self._hasher.hash(os.urandom(16).hex())

    def _check(self, password_hash: str, secret: str) -> bool:
        try:
            return self._hasher.verify(password_hash, secret)
        except (VerificationError, InvalidHashError):
            return False

    async def _run(self, function: Callable[..., T], *args: str) -> T:
        if self._pending >= self._max_pending:
            raise Overloaded("too many password hashes are queued")
        self._pending += 1
        try:
            # Cancelling the awaiting task cancels the pool's future, which drops the work
            # if no thread has started it.
            return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)
        finally:
            self._pending -= 1

    def close(self) -> None:
        """Stop the worker threads; hashing after this fails."""
        self._pool.shutdown(wait=False, cancel_futures=True)
