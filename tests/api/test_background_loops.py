"""The service's background loops (the retention sweep, the webhook worker) end when the
lifespan cancels them, even when a turn lost the cancellation, as a database driver's
``asyncio.wait_for`` can on Python 3.11: otherwise the shutdown waits on them forever."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from application import StorageUnavailable
from entrypoints.sweeping import sweep_periodically
from entrypoints.webhook_worker import deliver_continuously


class Turns(list[int]):
    """The turns taken; ``started`` is set by the first."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()


def _swallowing(turns: Turns, lost: Callable[[], Any]) -> Callable[[], Awaitable[Any]]:
    """A turn that waits; the first one cancelled carries on as if nothing happened
    (``lost``), later ones are cancelled as they should be."""

    async def turn() -> Any:
        turns.append(1)
        turns.started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            if len(turns) > 1:
                raise
        return lost()

    return turn


def _unavailable() -> None:
    raise StorageUnavailable("the connection was closed")


@pytest.mark.parametrize(
    "loop",
    [
        lambda turns: deliver_continuously(_swallowing(turns, lambda: 0), 0.001),  # type: ignore[arg-type]
        lambda turns: sweep_periodically(_swallowing(turns, _unavailable), 0.001),  # type: ignore[arg-type]
    ],
    ids=["webhook worker", "retention sweep"],
)
async def test_a_loop_whose_turn_swallowed_the_cancellation_still_stops(
    loop: Callable[[Turns], Awaitable[None]],
) -> None:
    turns = Turns()
    task = asyncio.ensure_future(loop(turns))
    await turns.started.wait()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    if not done:  # still running: stop it before failing (its next turn obeys)
        task.cancel()
        await asyncio.wait({task})
    assert done, "the loop went on after it was cancelled"
    assert task.cancelled()
    assert len(turns) == 1, "no turn after the cancellation"
