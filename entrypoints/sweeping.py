"""The retention sweep on a schedule, inside the service."""

from __future__ import annotations

import asyncio
import logging
import random

from application import ApplicationError
from application.retention import Sweep
from entrypoints.cancellation import stop_if_cancelled

__all__ = ["sweep_periodically"]

logger = logging.getLogger(__name__)


async def sweep_periodically(sweep: Sweep, interval: float) -> None:
    """Run ``sweep`` every ``interval`` seconds (the first after a random part of one, so
    that workers started together do not sweep together) until cancelled. A sweep that
    fails (the database is down) is logged and tried again at the next turn. Cancelled, it
    stops, even when the sweep lost the cancellation (``stop_if_cancelled``)."""
    await asyncio.sleep(random.uniform(0, interval))  # noqa: S311 - not a secret
    while True:
        try:
            swept = await sweep()
            logger.info(
                "swept %d failed logins, %d refresh tokens, %d idempotency keys, %d trashed notes,"
                " %d note events, %d personal access tokens",
                swept.login_failures,
                swept.refresh_tokens,
                swept.idempotency_keys,
                swept.trashed_notes,
                swept.note_events,
                swept.personal_tokens,
            )
        except ApplicationError as error:
            logger.warning("retention sweep failed: %s", type(error).__name__)
        stop_if_cancelled()
        await asyncio.sleep(interval)
