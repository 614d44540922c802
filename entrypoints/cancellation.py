"""Background loops that stop when cancelled, even if a library lost the cancellation."""

from __future__ import annotations

import asyncio

__all__ = ["stop_if_cancelled"]


def stop_if_cancelled() -> None:
    """Raise ``CancelledError`` if the current task was asked to stop.

    A loop calls it after each turn that may have swallowed its cancellation: on Python
    3.11, ``asyncio.wait_for`` (which database drivers use for their read timeouts) can
    return its result and drop a cancellation that arrived as the result did. The task
    still counts the request (``Task.cancelling()``), so the loop ends at its next check
    instead of running on and holding up the shutdown that waits for it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
