"""A data set with every kind of record, odd values included, and a way to read a whole
storage back through the ports to compare two of them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from adapters.system import Uuid7Factory
from application import UnitOfWorkFactory
from application.copying import USERS
from application.idempotency import IdempotencyRecord, result_of
from application.transfer import KINDS, user_values
from application.webhook_ports import DeliveryState
from domain import Description, Note, Tags, Title, User, Username
from domain.access import Relation
from domain.personal_tokens import PersonalToken, hash_token, token_text
from domain.sessions import RefreshToken
from domain.sharing import Link, Share
from domain.webhooks import Delivery, Webhook, WebhookEvents, WebhookUrl
from tests.support import START

_ids = Uuid7Factory()

Snapshot = dict[str, list[tuple[object, ...]]]


def _user(name: str, minutes: int) -> User:
    return User(
        id=_ids.new_id(),
        username=Username(name),
        password_hash=f"$argon2id$v=19$m=65536,t=3,p=4${name}$hash-of-{name}",
        created_date=START + timedelta(minutes=minutes, microseconds=123457),
    )


def _note(owner: UUID, index: int, *, title: str, description: str, tags: tuple[str, ...]) -> Note:
    return Note.create(
        id=_ids.new_id(),
        owner_id=owner,
        title=Title(title),
        description=Description(description),
        tags=Tags(tags),
        now=START + timedelta(seconds=index, microseconds=index * 7 + 1),
    )


async def fill(uow_factory: UnitOfWorkFactory, *, notes_per_user: int = 7) -> list[User]:
    """Three users (the last one with nothing of theirs) and, for the first two: notes with
    revisions (some pruned), notes in the trash, used, revoked and live refresh tokens,
    idempotency keys, personal access tokens (one used), an event log whose oldest events
    are pruned (the head above the last kept), a webhook with an event due and failed
    attempts and one done with every event, their deliveries, shares with the other user
    (one of a trashed note), and links (one expired). Returns the users."""
    users = [_user("Alice.A", 0), _user("bob_B", 1), _user("carol", 2)]
    async with uow_factory() as uow:
        for user in users:
            await uow.users.add(user)
        await uow.commit()
    for number, user in enumerate(users[:2]):
        notes = [
            _note(
                user.id,
                index,
                title=f"Note {index} 🦄 of {user.username.value}",
                description=(
                    "ünïcödé, \U0001d518 (4 bytes in UTF-8) and emoji 🧪 " * (index % 5 + 1)
                )
                + ("x" * 100_000)[: 30_000 if index == 0 else 0],
                tags=tuple(f"tag-{t}" for t in range(index % 4)) or (),
            )
            for index in range(notes_per_user)
        ]
        notes.append(
            _note(
                user.id, 99, title="t" * 200, description="", tags=tuple(f"t{t}" for t in range(20))
            )
        )
        async with uow_factory() as uow:
            await uow.notes.add_many(notes)
            await uow.commit()
        # Versions 2..4 of the first note, keeping only the last two revisions.
        first = notes[0]
        for version in range(2, 5):
            edited = first.edited(
                now=START + timedelta(hours=version), title=Title(f"edited {version}")
            )
            async with uow_factory() as uow:
                assert await uow.notes.update(
                    edited, expected_version=first.version, oldest_kept=version - 1
                )
                await uow.commit()
            first = edited
        await _share_and_link(uow_factory, user, users[1 - number], notes)
        # Two notes to the trash (the first of them shared).
        for trashed in notes[1:3]:
            async with uow_factory() as uow:
                assert await uow.notes.trash(
                    user.id, trashed.id, expected_version=1, at=START + timedelta(days=1)
                )
                await uow.commit()
        async with uow_factory() as uow:
            family = _ids.new_id()
            for index, (used, revoked) in enumerate(((True, False), (False, True), (False, False))):
                await uow.refresh_tokens.add(
                    RefreshToken(
                        id=_ids.new_id(),
                        user_id=user.id,
                        family_id=family,
                        token_hash=f"{number}{index}".ljust(64, "f"),
                        issued_at=START + timedelta(minutes=index),
                        expires_at=START + timedelta(days=30, minutes=index),
                        used_at=START + timedelta(minutes=5) if used else None,
                        revoked_at=START + timedelta(minutes=6) if revoked else None,
                    )
                )
            for key in ("retry-1", "Retry-1", "z" * 255):
                assert (
                    await uow.idempotency_keys.claim(
                        IdempotencyRecord(
                            owner_id=user.id,
                            key=key,
                            fingerprint="a" * 64,
                            result=result_of(notes[3:5]),
                            created_at=START,
                            expires_at=START + timedelta(hours=24),
                        )
                    )
                    is None
                )
            await uow.commit()
        await _tokens_events_and_webhooks(uow_factory, user, notes)
    return users


async def _share_and_link(
    uow_factory: UnitOfWorkFactory, owner: User, grantee: User, notes: list[Note]
) -> None:
    async with uow_factory() as uow:
        for note, permission in ((notes[1], Relation.READ), (notes[-1], Relation.WRITE)):
            await uow.shares.put(
                Share(
                    owner_id=owner.id,
                    note_id=note.id,
                    grantee_id=grantee.id,
                    grantee=grantee.username.value,
                    permission=permission,
                    created_date=START + timedelta(minutes=30, microseconds=999_999),
                )
            )
        for index, (note, days) in enumerate(((notes[0], 7), (notes[-1], -1))):
            await uow.links.add(
                Link(
                    id=_ids.new_id(),
                    owner_id=owner.id,
                    note_id=note.id,
                    token_hash=hash_token(f"link-{owner.username.value}-{index}"),
                    created_date=START + timedelta(hours=index),
                    expires_date=START + timedelta(days=days),
                )
            )
        await uow.commit()


async def _tokens_events_and_webhooks(
    uow_factory: UnitOfWorkFactory, user: User, notes: list[Note]
) -> None:
    async with uow_factory() as uow:
        for index, used in enumerate((None, START + timedelta(minutes=3))):
            token_id = _ids.new_id()
            await uow.personal_tokens.add(
                PersonalToken(
                    id=token_id,
                    owner_id=user.id,
                    name=f"CI 🧪 token {index}" if index else " ",
                    scopes=frozenset({"notes:read", "notes:write"} if index else {"notes:read"}),
                    token_hash=hash_token(token_text(user.id, token_id, f"secret-{index}")),
                    created_date=START + timedelta(microseconds=index),
                    expires_date=START + timedelta(days=365),
                    last_used_date=used,
                )
            )
        # Events 1-3, the first two before START (pruned below).
        for seq, kind in enumerate(("created", "updated", "deleted"), start=1):
            at = START + timedelta(days=-1 if seq < 3 else 0, microseconds=seq)
            await uow.events.append(user.id, notes[0].id, kind, seq, at)
        await uow.commit()
    hooks = [
        Webhook(
            id=_ids.new_id(),
            owner_id=user.id,
            url=WebhookUrl(url),
            events=WebhookEvents.of(events),
            secret_seed=seed,
            created_date=START + timedelta(minutes=index),
        )
        for index, (url, events, seed) in enumerate(
            (
                (
                    "https://hooks.example.com:8443/in%20box?q=1&x=y",
                    ["note.created", "note.deleted"],
                    b"\x00\xff" + bytes(range(30)),
                ),
                ("http://[2001:db8::1]/h", ["note.updated"], bytes(64)),
            )
        )
    ]
    async with uow_factory() as uow:
        for hook in hooks:
            # Deliveries start after event 3.
            await uow.webhooks.add(hook)
        for seq, kind in ((4, "restored"), (5, "purged")):
            await uow.events.append(user.id, notes[0].id, kind, seq, START + timedelta(hours=seq))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.events.prune(START)
        await uow.commit()
    token = _ids.new_id()
    async with uow_factory() as uow:
        claims = await uow.webhooks.claim(
            START + timedelta(hours=6), START + timedelta(hours=7), token, limit=100
        )
        mine = {claim.webhook.id for claim in claims if claim.webhook.owner_id == user.id}
        assert mine == {hook.id for hook in hooks}
        failing, done = hooks
        state = DeliveryState(cursor=3).failed(
            START + timedelta(hours=6, microseconds=1), START + timedelta(hours=8)
        )
        assert await uow.webhooks.save(user.id, failing.id, token, state, until=None)
        assert await uow.webhooks.save(user.id, done.id, token, DeliveryState(cursor=5), until=None)
        for index, (hook, seq, status, error, gave_up) in enumerate(
            (
                (failing, 4, None, "connection refused ✗", False),
                (failing, 4, 500, None, False),
                (done, 4, 200, None, False),
                (done, 5, None, "timed out", True),
            )
        ):
            await uow.webhooks.record(
                Delivery(
                    owner_id=user.id,
                    webhook_id=hook.id,
                    id=_ids.new_id(),
                    event_id=_ids.new_id(),
                    seq=seq,
                    attempt=index % 2 + 1,
                    at=START + timedelta(hours=6, seconds=index),
                    status_code=status,
                    error=error,
                    gave_up=gave_up,
                )
            )
        await uow.commit()


async def snapshot(uow_factory: UnitOfWorkFactory) -> Snapshot:
    """Every stored value of every table, read through the transfer port, sorted."""
    found: Snapshot = {USERS: []}
    found.update({kind.name: [] for kind in KINDS})
    after: UUID | None = None
    while users := await _users(uow_factory, after):
        for user in users:
            found[USERS].append(user_values(user))
            for kind in KINDS:
                async with uow_factory() as uow:
                    records: list[Any] = await uow.transfer.records(
                        kind.name, user.id, after=None, limit=10_000
                    )
                found[kind.name].extend(kind.values(record) for record in records)
        after = users[-1].id
    return {
        name: sorted(rows, key=lambda row: [str(v) for v in row]) for name, rows in found.items()
    }


async def _users(uow_factory: UnitOfWorkFactory, after: UUID | None) -> list[User]:
    async with uow_factory() as uow:
        return await uow.transfer.users(after=after, limit=2)
