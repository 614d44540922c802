"""The gate in front of the connection pool: first come, first served, and no permit lost."""

from __future__ import annotations

import asyncio

import pytest

from adapters.sqlalchemy.gate import FairGate


async def test_a_free_permit_is_taken_without_waiting() -> None:
    gate = FairGate(2, timeout=1.0)
    assert gate.try_acquire()
    await gate.acquire()
    assert not gate.try_acquire()
    gate.release()
    assert gate.free == 1


async def test_waiters_are_served_in_the_order_they_came() -> None:
    gate = FairGate(1, timeout=5.0)
    assert gate.try_acquire()
    served: list[int] = []

    async def waiter(number: int) -> None:
        await gate.acquire()
        served.append(number)

    tasks = []
    for number in range(5):
        tasks.append(asyncio.create_task(waiter(number)))
        await asyncio.sleep(0)
    assert gate.waiting == 5
    for _ in range(5):
        gate.release()
        # A releaser that asks again at once queues behind the waiters.
        assert not gate.try_acquire()
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert served == [0, 1, 2, 3, 4]
    gate.release()
    assert (gate.free, gate.waiting) == (1, 0)


async def test_a_cancelled_waiter_leaves_the_queue_and_loses_no_permit() -> None:
    gate = FairGate(1, timeout=5.0)
    assert gate.try_acquire()
    first = asyncio.create_task(gate.acquire())
    second = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert gate.waiting == 1
    gate.release()
    await second
    gate.release()
    assert (gate.free, gate.waiting) == (1, 0)


async def test_a_waiter_cancelled_after_it_was_handed_a_permit_passes_it_on() -> None:
    gate = FairGate(1, timeout=5.0)
    assert gate.try_acquire()
    first = asyncio.create_task(gate.acquire())
    second = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    gate.release()  # handed to the first waiter, which has not run yet...
    first.cancel()  # ...and is cancelled before it does
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1.0)  # the permit went on to the next waiter
    gate.release()
    assert (gate.free, gate.waiting) == (1, 0)


async def test_waiting_longer_than_the_timeout_fails_and_loses_no_permit() -> None:
    gate = FairGate(1, timeout=0.05)
    assert gate.try_acquire()
    with pytest.raises(TimeoutError):
        await gate.acquire()
    assert gate.waiting == 0
    gate.release()
    assert gate.free == 1
