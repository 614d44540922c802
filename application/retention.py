"""The sweep that keeps the bookkeeping tables bounded: failed logins older than the login
window, refresh tokens expired for longer than a grace period (kept that long so that a
replayed expired token is still recognised as one), expired idempotency keys, and (with a
``PurgeTrash``) the notes that outlived the trash's retention, and (with a
``feed_retention``) the events the change feed no longer serves."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from application.ports import Clock, UnitOfWorkFactory
from application.revisions import PurgeTrash

__all__ = ["Sweep", "Swept"]


@dataclass(frozen=True, slots=True)
class Swept:
    """How many rows one sweep forgot, by kind."""

    login_failures: int
    refresh_tokens: int
    idempotency_keys: int
    trashed_notes: int = 0
    note_events: int = 0


class Sweep:
    """``await sweep()`` forgets, in one unit of work, what has outlived its use."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        failure_window: timedelta,
        token_grace: timedelta = timedelta(days=1),
        purge_trash: PurgeTrash | None = None,
        feed_retention: timedelta | None = None,
    ) -> None:
        self._feed_retention = feed_retention
        self._purge_trash = purge_trash
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
            if self._feed_retention is not None:
                pruned = await uow.events.prune(now - self._feed_retention)
                swept = replace(swept, note_events=pruned)
            await uow.commit()
        if self._purge_trash is not None:
            swept = replace(swept, trashed_notes=await self._purge_trash())
        return swept
