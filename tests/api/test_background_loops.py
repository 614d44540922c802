"""The service's background loops (the retention sweep, the webhook worker) end when the
lifespan cancels them, even when a turn lost the cancellation, as a database driver's
``asyncio.wait_for`` can on Python 3.11: otherwise the shutdown waits on them forever. The
webhook worker serves each claimed webhook on its own."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.memory import MemoryDatabase
from adapters.system import SystemClock, Uuid7Factory
from adapters.webhooks import StandardWebhookSigning
from application import NoteDraft, Notes, StorageUnavailable
from application.webhook_delivery import DeliverWebhooks
from application.webhooks import Webhooks
from entrypoints.http.webhook_schemas import JsonMessageEncoder
from entrypoints.sweeping import sweep_periodically
from entrypoints.webhook_worker import deliver_continuously
from tests.support import ALICE, BOB
from tests.unit.test_webhook_delivery import RecordingSender


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


class _Claiming:
    """A delivery worker's side that only claims (``claim``), finding nothing due."""

    claims = 4

    def __init__(self, claim: Callable[[], Awaitable[Any]]) -> None:
        self._claim = claim

    async def claim(self, limit: int) -> Any:
        return await self._claim()


def _unavailable() -> None:
    raise StorageUnavailable("the connection was closed")


@pytest.mark.parametrize(
    "loop",
    [
        lambda turns: deliver_continuously(_Claiming(_swallowing(turns, list)), 0.001),  # type: ignore[arg-type]
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


async def test_a_webhook_whose_receiver_hangs_holds_up_no_other_webhook() -> None:
    """Each claimed webhook is served on its own: a slot that frees is filled at once,
    without waiting for the others claimed with it."""
    hanging, quick = "https://93.184.216.34/hangs", "https://93.184.216.34/quick"
    release = asyncio.Event()
    sender = RecordingSender()
    send = sender.send

    seen: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def maybe_hanging(url: Any, headers: Any, body: bytes) -> Any:
        if url.value == hanging:
            await release.wait()
        answer = await send(url, headers, body)
        seen[sender.sent[-1][2]["data"]["note"]["title"]].set()
        return answer

    sender.send = maybe_hanging  # type: ignore[method-assign]
    database, clock, ids = MemoryDatabase(), SystemClock(), Uuid7Factory()
    signing = StandardWebhookSigning("service-key-" + "x" * 32)
    notes = Notes(database.unit_of_work, clock, ids)
    webhooks = Webhooks(database.unit_of_work, clock, ids, signing, sender)
    await webhooks.register(ALICE, hanging, ["note.created"])
    await webhooks.register(BOB, quick, ["note.created"])
    deliver = DeliverWebhooks(
        database.unit_of_work, clock, ids, sender, signing, JsonMessageEncoder(), claims=4
    )
    await notes.create_note(ALICE, NoteDraft("stuck"))
    await notes.create_note(BOB, NoteDraft("b1"))
    worker = asyncio.ensure_future(deliver_continuously(deliver, 0.01))
    try:
        for title in ("b2", "b3"):
            await notes.create_note(BOB, NoteDraft(title))
            await asyncio.wait_for(seen[title].wait(), 5)
        assert "stuck" not in seen
        release.set()
        await asyncio.wait_for(seen["stuck"].wait(), 5)
    finally:
        worker.cancel()
        await asyncio.wait({worker})
    assert worker.cancelled()
