"""Argon2id password hashing, run in worker threads so it never blocks the event loop."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from domain import Password

__all__ = ["Argon2PasswordHasher"]

T = TypeVar("T")


class Argon2PasswordHasher:
    """Argon2id with argon2-cffi's defaults (RFC 9106's second recommended profile: 3
    passes over 64 MiB) unless told otherwise.

    Hashing is deliberately slow (tens of milliseconds of CPU). It runs in a pool of its own,
    one thread per core, so a burst of logins queues there while the event loop keeps
    serving every other request, and it never crowds out other users of the default
    executor.
    """

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost_kib: int = 65_536,
        parallelism: int = 4,
        threads: int | None = None,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        self._pool = ThreadPoolExecutor(
            max_workers=threads or os.cpu_count() or 1, thread_name_prefix="argon2"
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
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    def close(self) -> None:
        """Stop the worker threads; hashing after this fails."""
        self._pool.shutdown(wait=False, cancel_futures=True)
