"""The sweep that keeps the bookkeeping tables bounded: failed logins older than the login
window, refresh tokens expired for longer than a grace period (kept that long so that a
replayed expired token is still recognised as one), and expired idempotency keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, UnitOfWorkFactory

__all__ = ["Sweep", "Swept"]


@dataclass(frozen=True, slots=True)
class Swept:
    """How many rows one sweep forgot, by kind."""

    login_failures: int
    refresh_tokens: int
    idempotency_keys: int


class Sweep:
    """``await sweep()`` forgets, in one unit of work, what has outlived its use."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        failure_window: timedelta,
        token_grace: timedelta = timedelta(days=1),
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._failure_window = failure_window
        self._token_grace = token_grace

    async def __call__(self) -> Swept:
        now = self._clock.now()
        async with self._uow() as uow:
            swept = Swept(
                login_failures=await uow.retention.forget_login_failures(
                    now - self._failure_window
                ),
                refresh_tokens=await uow.retention.forget_refresh_tokens(now - self._token_grace),
                idempotency_keys=await uow.retention.forget_idempotency_keys(now),
            )
            await uow.commit()
        return swept
