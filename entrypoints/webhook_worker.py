"""The webhook delivery worker, run inside the service for as long as it serves."""

from __future__ import annotations

import asyncio
import logging

from application import ApplicationError
from application.webhook_delivery import DeliverWebhooks
from application.webhook_ports import Claim
from entrypoints.cancellation import stop_if_cancelled

__all__ = ["deliver_continuously"]

logger = logging.getLogger(__name__)


async def deliver_continuously(deliver: DeliverWebhooks, interval: float) -> None:
    """Serve webhooks until cancelled, up to ``deliver.claims`` at once, each in a task of
    its own: a slot that frees is filled by a new claim at once, without waiting for the
    other webhooks being served. When a claim finds fewer webhooks due than slots free, the
    next one comes after ``interval`` seconds (or when a slot frees). A claim that fails
    (the database is down) is logged and tried again after ``interval``; the webhooks it
    had leased wait for their leases to expire. Cancelled, it cancels the deliveries in
    flight (their leases expire, and what they sent is sent again) and stops, even when a
    claim lost the cancellation (``stop_if_cancelled``)."""
    serving: set[asyncio.Task[None]] = set()
    try:
        while True:
            free = deliver.claims - len(serving)
            claims: list[Claim] = []
            if free:
                try:
                    claims = await deliver.claim(free)
                except ApplicationError as error:
                    logger.warning("webhook delivery failed: %s", type(error).__name__)
                except Exception:
                    logger.exception("webhook delivery failed")
            stop_if_cancelled()
            serving.update(asyncio.create_task(deliver.serve(claim)) for claim in claims)
            if free and len(claims) == free:
                continue  # more may be due
            if not serving:
                await asyncio.sleep(interval)
                continue
            done, _ = await asyncio.wait(
                serving, timeout=interval if free else None, return_when="FIRST_COMPLETED"
            )
            serving.difference_update(done)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    logger.error("webhook delivery failed", exc_info=task.exception())
    finally:
        while serving:  # again each second, for a delivery that lost its cancellation
            for task in serving:
                task.cancel()
            _, serving = await asyncio.wait(serving, timeout=1)
