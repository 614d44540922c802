"""Delivering the event log to webhooks, on the in-memory adapter with a recording sender:
order, content, retries and their schedule, giving up after a day, leases between workers.
(The real sender and a real receiver: tests/integration and tests/e2e.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from adapters.memory import MemoryDatabase
from adapters.system import Uuid7Factory
from adapters.webhooks import StandardWebhookSigning
from application import NoteChanges, NoteDraft, Notes
from application.revisions import Revisions, Trash
from application.webhook_delivery import DeliverWebhooks
from application.webhook_ports import Answer
from application.webhooks import Webhooks
from domain.revisions import RevisionPolicy
from domain.webhooks import WebhookUrl
from entrypoints.http.webhook_schemas import JsonMessageEncoder
from tests.support import ALICE, BOB, ManualClock
from tests.webhook_receiver import Received, verify

URL = "https://93.184.216.34/hooks"
KEPT = 3


class RecordingSender:
    """The sender port, answering from a script (200 when it runs out), recording messages."""

    def __init__(self) -> None:
        self.script: list[int | None] = []
        self.sent: list[tuple[str, dict[str, str], Any]] = []
        self.bodies: list[bytes] = []

    async def check(self, url: WebhookUrl) -> None:
        pass

    async def send(self, url: WebhookUrl, headers: Mapping[str, str], body: bytes) -> Answer:
        await asyncio.sleep(0)
        status = self.script.pop(0) if self.script else 200
        self.sent.append((url.value, dict(headers), json.loads(body)))
        self.bodies.append(body)
        return Answer(status, None if status else "no answer within 10 s")

    def types(self) -> list[str]:
        return [body["type"] for _, _, body in self.sent]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def database() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def signing() -> StandardWebhookSigning:
    return StandardWebhookSigning("service-key-" + "x" * 32)


@pytest.fixture
def notes(database: MemoryDatabase, clock: ManualClock) -> Notes:
    return Notes(database.unit_of_work, clock, Uuid7Factory(), revisions=RevisionPolicy(KEPT))


@pytest.fixture
def webhooks(
    database: MemoryDatabase,
    clock: ManualClock,
    sender: RecordingSender,
    signing: StandardWebhookSigning,
) -> Webhooks:
    return Webhooks(database.unit_of_work, clock, Uuid7Factory(), signing, sender)


def worker(
    database: MemoryDatabase,
    clock: ManualClock,
    sender: RecordingSender,
    signing: StandardWebhookSigning,
    **options: Any,
) -> DeliverWebhooks:
    return DeliverWebhooks(
        database.unit_of_work,
        clock,
        Uuid7Factory(),
        sender,
        signing,
        JsonMessageEncoder(),
        jitter=lambda: 1.0,
        **options,
    )


@pytest.fixture
def deliver(
    database: MemoryDatabase,
    clock: ManualClock,
    sender: RecordingSender,
    signing: StandardWebhookSigning,
) -> DeliverWebhooks:
    return worker(database, clock, sender, signing)


async def test_events_go_out_in_commit_order_with_the_note_as_it_was_then(
    notes: Notes,
    webhooks: Webhooks,
    deliver: DeliverWebhooks,
    sender: RecordingSender,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    before = await notes.create_note(ALICE, NoteDraft("before the webhook"))
    await webhooks.register(ALICE, URL, ["note.created", "note.updated", "note.deleted"])
    await webhooks.register(BOB, URL + "/bob", ["note.created"])
    note = await notes.create_note(ALICE, NoteDraft("v1", "first"))
    await notes.patch_note(ALICE, note.id, NoteChanges(title="v2"))
    await notes.patch_note(ALICE, before.id, NoteChanges(title="edited"))
    await notes.delete_note(ALICE, note.id)
    await Trash(database.unit_of_work, clock, policy=RevisionPolicy(KEPT)).restore(
        ALICE, note.id
    )  # note.restored: not asked for
    await notes.create_note(BOB, NoteDraft("bob's"))

    assert await deliver() == 2
    assert await deliver() == 0
    alice = [body for url, _, body in sender.sent if url == URL]
    assert [b["type"] for b in alice] == [
        "note.created",
        "note.updated",
        "note.updated",
        "note.deleted",
    ]
    assert [alice[0]["data"]["note"]["title"], alice[1]["data"]["note"]["title"]] == ["v1", "v2"]
    assert alice[1]["data"]["note"]["version"] == 2
    assert alice[2]["data"]["note"]["id"] == str(before.id)
    assert alice[3]["data"] == {"id": str(note.id)}
    assert len({b["id"] for b in alice}) == 4
    assert len(sender.sent) == 5


async def test_each_message_is_signed_with_the_secret_shown_at_registration(
    notes: Notes,
    webhooks: Webhooks,
    deliver: DeliverWebhooks,
    sender: RecordingSender,
    clock: ManualClock,
) -> None:
    registered = await webhooks.register(ALICE, URL, ["note.created"])
    await notes.create_note(ALICE, NoteDraft("signed"))
    await deliver()
    ((_, headers, body),) = sender.sent
    # Signed at the manual clock's time, long ago: check the signature, not the age.
    message = Received(0.0, "/", headers, sender.bodies[0], 200)
    assert verify(registered.secret, message, tolerance=float("inf")) == body
    assert headers["webhook-id"] == body["id"]
    assert headers["webhook-timestamp"] == str(int(clock.now().timestamp()))


async def test_a_failed_event_is_retried_later_with_the_same_id_and_then_the_rest_follow(
    notes: Notes,
    webhooks: Webhooks,
    deliver: DeliverWebhooks,
    sender: RecordingSender,
    clock: ManualClock,
) -> None:
    registered = await webhooks.register(ALICE, URL, ["note.created"])
    await notes.create_note(ALICE, NoteDraft("one"))
    await notes.create_note(ALICE, NoteDraft("two"))
    sender.script = [500, None, 503]
    waits = []
    for _ in range(3):
        await deliver()
        assert await deliver() == 0  # not due yet
        retry_at = (await webhooks.deliveries(ALICE, registered.webhook.id))[0].at
        waits.append(retry_at)
        clock.advance(timedelta(seconds=5) * 2 ** (len(waits) - 1))
    await deliver()
    titles = [body["data"]["note"]["title"] for _, _, body in sender.sent]
    assert titles == ["one", "one", "one", "one", "two"]
    assert len({body["id"] for _, _, body in sender.sent[:4]}) == 1
    attempts = await webhooks.deliveries(ALICE, registered.webhook.id)
    assert [(d.attempt, d.status_code) for d in reversed(attempts)] == [
        (1, 500),
        (2, None),
        (3, 503),
        (4, 200),
        (1, 200),
    ]
    assert attempts[3].error == "no answer within 10 s"


async def test_an_event_failing_for_a_day_is_given_up_and_the_next_one_follows(
    notes: Notes,
    webhooks: Webhooks,
    deliver: DeliverWebhooks,
    sender: RecordingSender,
    clock: ManualClock,
) -> None:
    registered = await webhooks.register(ALICE, URL, ["note.created"])
    await notes.create_note(ALICE, NoteDraft("doomed"))
    await notes.create_note(ALICE, NoteDraft("next"))
    sender.script = [500] * 1000
    for _ in range(200):
        await deliver()
        clock.advance(timedelta(hours=1))
        if (
            sender.types().count("note.created") > 1
            and sender.sent[-1][2]["data"]["note"]["title"] == "next"
        ):
            break
    attempts = list(reversed(await webhooks.deliveries(ALICE, registered.webhook.id)))
    doomed = [d for d in attempts if d.seq == attempts[0].seq]
    assert doomed[-1].gave_up
    assert not any(d.gave_up for d in doomed[:-1])
    assert doomed[-1].at - doomed[0].at >= timedelta(hours=24)
    assert 10 <= len(doomed) <= 40
    assert attempts[len(doomed)].seq > doomed[0].seq


async def test_a_webhook_leased_to_one_worker_is_not_served_by_another_until_it_expires(
    notes: Notes,
    webhooks: Webhooks,
    database: MemoryDatabase,
    sender: RecordingSender,
    signing: StandardWebhookSigning,
    clock: ManualClock,
) -> None:
    await webhooks.register(ALICE, URL, ["note.created"])
    await notes.create_note(ALICE, NoteDraft("once"))
    async with database.unit_of_work() as uow:  # a worker that claims, then dies
        claimed = await uow.webhooks.claim(
            clock.now(), clock.now() + timedelta(seconds=60), Uuid7Factory().new_id(), limit=5
        )
        await uow.commit()
    assert len(claimed) == 1
    other = worker(database, clock, sender, signing)
    assert await other() == 0
    assert sender.sent == []
    clock.advance(timedelta(seconds=61))
    assert await other() == 1
    assert sender.types() == ["note.created"]


async def test_concurrent_workers_deliver_each_event_once(
    notes: Notes,
    webhooks: Webhooks,
    database: MemoryDatabase,
    sender: RecordingSender,
    signing: StandardWebhookSigning,
    clock: ManualClock,
) -> None:
    for _ in range(3):
        await webhooks.register(ALICE, URL, ["note.created"])
    await webhooks.register(BOB, URL, ["note.created"])
    for index in range(10):
        await notes.create_note(ALICE if index % 2 else BOB, NoteDraft(f"n{index}"))
    workers = [worker(database, clock, sender, signing, claims=1) for _ in range(4)]
    for _ in range(5):
        await asyncio.gather(*(w() for w in workers))
    assert len(sender.sent) == 3 * 5 + 5
    ids = [body["id"] for _, _, body in sender.sent]
    assert len(ids) == len(set(ids)) + 2 * 5  # alice's events go to three webhooks each


async def test_a_pruned_revision_sends_the_note_as_it_is_now(
    notes: Notes,
    webhooks: Webhooks,
    deliver: DeliverWebhooks,
    sender: RecordingSender,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await webhooks.register(ALICE, URL, ["note.created", "note.updated"])
    note = await notes.create_note(ALICE, NoteDraft("v1"))
    for version in range(2, 2 + KEPT + 1):
        await notes.patch_note(ALICE, note.id, NoteChanges(title=f"v{version}"))
    await deliver()
    versions = [body["data"]["note"]["version"] for _, _, body in sender.sent]
    titles = [body["data"]["note"]["title"] for _, _, body in sender.sent]
    latest = 2 + KEPT
    # The first versions' revisions were pruned: they go out as the note is now.
    assert versions[-KEPT:] == list(range(latest - KEPT + 1, latest + 1))
    assert titles[-KEPT:] == [f"v{v}" for v in range(latest - KEPT + 1, latest + 1)]
    assert versions[0] == latest
    revisions = Revisions(database.unit_of_work, clock, policy=RevisionPolicy(KEPT))
    assert len((await revisions.list_revisions(ALICE, note.id, limit=100)).revisions) == KEPT


class Killed(BaseException):
    """The process dies (nothing after it runs)."""


async def recorded(database: MemoryDatabase, webhook_id: Any) -> list[Any]:
    async with database.unit_of_work() as uow:
        return await uow.webhooks.deliveries(ALICE, webhook_id, limit=100)


def count_recorded_at_each_send(
    sender: RecordingSender,
    database: MemoryDatabase,
    webhook_id: Any,
    clock: ManualClock | None = None,
    pause: timedelta = timedelta(0),
) -> list[int]:
    """How many attempts were recorded when each message went out (filled in as ``sender``
    sends); each send then takes ``pause`` on ``clock``."""
    seen: list[int] = []
    send = sender.send

    async def watching(url: WebhookUrl, headers: Mapping[str, str], body: bytes) -> Answer:
        seen.append(len(await recorded(database, webhook_id)))
        if clock is not None:
            clock.advance(pause)
        return await send(url, headers, body)

    sender.send = watching  # type: ignore[method-assign]
    return seen


async def test_the_attempts_of_a_batch_are_recorded_together_once_it_is_sent(
    notes: Notes,
    webhooks: Webhooks,
    deliver: DeliverWebhooks,
    sender: RecordingSender,
    database: MemoryDatabase,
) -> None:
    registered = await webhooks.register(ALICE, URL, ["note.created"])
    for title in ("one", "two", "three"):
        await notes.create_note(ALICE, NoteDraft(title))
    seen_recorded = count_recorded_at_each_send(sender, database, registered.webhook.id)
    assert await deliver() == 1
    assert seen_recorded == [0, 0, 0]
    attempts = await recorded(database, registered.webhook.id)
    assert [(d.seq, d.attempt, d.status_code) for d in reversed(attempts)] == [
        (1, 1, 200),
        (2, 1, 200),
        (3, 1, 200),
    ]
    assert await deliver() == 0  # the cursor moved with them


async def test_attempts_are_recorded_before_sending_on_once_record_within_has_passed(
    notes: Notes,
    webhooks: Webhooks,
    sender: RecordingSender,
    signing: StandardWebhookSigning,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    """So that the lease, renewed with each recording, never runs out mid-attempt."""
    registered = await webhooks.register(ALICE, URL, ["note.created"])
    for index in range(5):
        await notes.create_note(ALICE, NoteDraft(f"n{index}"))
    seen_recorded = count_recorded_at_each_send(
        sender, database, registered.webhook.id, clock, timedelta(seconds=0.6)
    )
    deliver = worker(database, clock, sender, signing, record_within=timedelta(seconds=1))
    await deliver()
    assert seen_recorded == [0, 0, 2, 2, 4]
    assert len(await recorded(database, registered.webhook.id)) == 5


async def test_a_batch_sent_by_a_worker_that_died_before_recording_it_is_sent_again(
    notes: Notes,
    webhooks: Webhooks,
    deliver: DeliverWebhooks,
    sender: RecordingSender,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    registered = await webhooks.register(ALICE, URL, ["note.created"])
    for title in ("one", "two", "three"):
        await notes.create_note(ALICE, NoteDraft(title))
    send = sender.send

    async def dying(url: WebhookUrl, headers: Mapping[str, str], body: bytes) -> Answer:
        answer = await send(url, headers, body)
        if len(sender.sent) == 3:
            raise Killed
        return answer

    sender.send = dying  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await deliver()
    assert await recorded(database, registered.webhook.id) == []
    sender.send = send  # type: ignore[method-assign]
    assert await deliver() == 0  # still leased to the dead worker
    clock.advance(timedelta(seconds=61))
    assert await deliver() == 1
    titles = [body["data"]["note"]["title"] for _, _, body in sender.sent]
    assert titles == ["one", "two", "three"] * 2
    attempts = await recorded(database, registered.webhook.id)
    assert [(d.seq, d.attempt) for d in reversed(attempts)] == [(1, 1), (2, 1), (3, 1)]


async def test_a_lingering_webhook_gets_its_next_event_without_being_released(
    notes: Notes,
    webhooks: Webhooks,
    sender: RecordingSender,
    signing: StandardWebhookSigning,
    database: MemoryDatabase,
    clock: ManualClock,
) -> None:
    await webhooks.register(ALICE, URL, ["note.created"])
    await notes.create_note(ALICE, NoteDraft("first"))
    first_sent = asyncio.Event()
    send = sender.send

    async def telling(url: WebhookUrl, headers: Mapping[str, str], body: bytes) -> Answer:
        answer = await send(url, headers, body)
        first_sent.set()
        return answer

    sender.send = telling  # type: ignore[method-assign]
    lingering = worker(database, clock, sender, signing, linger=50, poll=timedelta(seconds=0.01))
    turn = asyncio.ensure_future(lingering())
    await asyncio.wait_for(first_sent.wait(), 5)
    other = worker(database, clock, sender, signing)
    await notes.create_note(ALICE, NoteDraft("second"))
    assert await other() == 0  # the webhook is still held
    assert await turn == 1
    assert [body["data"]["note"]["title"] for _, _, body in sender.sent] == ["first", "second"]
    assert await other() == 0  # released, with nothing due
