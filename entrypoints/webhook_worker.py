"""The webhook delivery worker, run inside the service for as long as it serves."""

from __future__ import annotations

import asyncio
import logging

from application import ApplicationError
from application.webhook_delivery import DeliverWebhooks
from entrypoints.cancellation import stop_if_cancelled

__all__ = ["deliver_continuously"]

logger = logging.getLogger(__name__)


async def deliver_continuously(deliver: DeliverWebhooks, interval: float) -> None:
    """Run ``deliver`` again and again until cancelled: at once while it finds webhooks
    with events due, else after ``interval`` seconds. A turn that fails (the database is
    down) is logged and tried again after ``interval``; the webhooks it had leased wait for
    their leases to expire. Cancelled, it stops, even when the turn lost the cancellation
    (``stop_if_cancelled``)."""
    while True:
        try:
            served = await deliver()
        except ApplicationError as error:
            logger.warning("webhook delivery failed: %s", type(error).__name__)
            served = 0
        except Exception:
            logger.exception("webhook delivery failed")
            served = 0
        stop_if_cancelled()
        if not served:
            await asyncio.sleep(interval)
