"""Use cases for sharing: notes shared with named users, and public read-only links.

Who may do what is ``domain.access``'s decision; these use cases ask it. Sharing and
linking are the owner's: anyone else, a grantee included, finds no such note.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from uuid import UUID

from application.errors import ApplicationError, TooManyAttempts
from application.finding import InvalidListing, NotePage, NoteQuery
from application.notes import allowed, filter_of
from application.ports import Clock, IdFactory, UnitOfWorkFactory
from application.throttle import AddressLimiter
from domain import Note, RuleViolation, Username
from domain.access import Action, relation_of
from domain.sessions import client_token, user_of
from domain.sharing import DEFAULT_LINK_DAYS, Link, Share, link_lifetime

__all__ = [
    "IssuedLink",
    "LinkNotFound",
    "PublicLinkNotFound",
    "PublicLinkThrottled",
    "ShareNotFound",
    "Sharing",
    "UserNotFound",
    "Usernames",
]


class UserNotFound(ApplicationError):
    """No user has this username."""


class ShareNotFound(ApplicationError):
    """The note is not shared with this user."""


class LinkNotFound(ApplicationError):
    """The note has no link with this id."""


class PublicLinkNotFound(ApplicationError):
    """No working link has this token: unknown, expired, revoked, or its note deleted.
    One answer for all, so that a guesser learns nothing."""


class PublicLinkThrottled(TooManyAttempts):
    """Too many requests for public links from this client address lately."""


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A new link and its token, which is shown this once and never stored."""

    link: Link
    token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sharing:
    """Shares, the notes shared with a caller, and public links."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        ids: IdFactory,
        *,
        public_limiter: AddressLimiter | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._public_limiter = public_limiter

    async def share(self, owner_id: UUID, note_id: UUID, username: str, permission: str) -> Share:
        """Share the owner's note with the user named ``username`` (or change the
        permission of that share); ``NoteNotFound``, ``UserNotFound``, ``InvalidShare``
        (the owner's own name), ``InvalidPermission``."""
        relation = relation_of(permission)
        key = _username_key(username)
        async with self._uow() as uow:
            allowed(await uow.notes.visible(owner_id, note_id), note_id, Action.SHARE)
            grantee = None if key is None else await uow.users.get_by_username(key)
            if grantee is None:
                raise UserNotFound(f"no user is named {username!r}")
            stored = await uow.shares.put(
                Share(
                    owner_id=owner_id,
                    note_id=note_id,
                    grantee_id=grantee.id,
                    grantee=grantee.username.value,
                    permission=relation,
                    created_date=self._clock.now(),
                )
            )
            await uow.commit()
        return stored

    async def shares(self, owner_id: UUID, note_id: UUID) -> list[Share]:
        """Who the owner's note is shared with, oldest share first."""
        async with self._uow() as uow:
            allowed(await uow.notes.visible(owner_id, note_id), note_id, Action.SHARE)
            return await uow.shares.list(owner_id, note_id)

    async def unshare(self, owner_id: UUID, note_id: UUID, username: str) -> None:
        """Stop sharing the note with the user; from the commit on, they no longer see it.
        ``NoteNotFound``, or ``ShareNotFound`` if it was not shared with them."""
        key = _username_key(username)
        async with self._uow() as uow:
            allowed(await uow.notes.visible(owner_id, note_id), note_id, Action.SHARE)
            grantee = None if key is None else await uow.users.get_by_username(key)
            if grantee is None or not await uow.shares.delete(owner_id, note_id, grantee.id):
                raise ShareNotFound(f"note {note_id} is not shared with {username!r}")
            await uow.commit()

    async def find_shared(self, grantee_id: UUID, query: NoteQuery) -> NotePage:
        """A page of the notes shared with the caller, as ``Notes.find_notes`` pages the
        caller's own (keyset paging only)."""
        where = filter_of(query)
        if query.order == "relevance" and where.search is None:
            raise InvalidListing("order", "relevance needs a search (q)")
        async with self._uow() as uow:
            found = await uow.notes.find_shared(
                grantee_id, where, query.order, limit=query.limit + 1, after=query.after
            )
        page = found[: query.limit]
        more = len(found) > query.limit
        return NotePage(
            notes=[ranked.note for ranked in page],
            next=page[-1].position(query.order) if more else None,
        )

    async def create_link(
        self, owner_id: UUID, note_id: UUID, *, expires_in_days: int = DEFAULT_LINK_DAYS
    ) -> IssuedLink:
        """A new public link to the owner's note. The token names the owner (so that its
        lookup goes to the owner's rows) and carries 256 random bits."""
        lifetime = link_lifetime(expires_in_days)
        token = client_token(owner_id, secrets.token_urlsafe(32))
        now = self._clock.now()
        link = Link(
            id=self._ids.new_id(),
            owner_id=owner_id,
            note_id=note_id,
            token_hash=_digest(token),
            created_date=now,
            expires_date=now + lifetime,
        )
        async with self._uow() as uow:
            allowed(await uow.notes.visible(owner_id, note_id), note_id, Action.LINK)
            await uow.links.add(link)
            await uow.commit()
        return IssuedLink(link=link, token=token)

    async def links(self, owner_id: UUID, note_id: UUID) -> list[Link]:
        async with self._uow() as uow:
            allowed(await uow.notes.visible(owner_id, note_id), note_id, Action.LINK)
            return await uow.links.list(owner_id, note_id)

    async def revoke_link(self, owner_id: UUID, note_id: UUID, link_id: UUID) -> None:
        """Revoke the link at once; ``NoteNotFound`` or ``LinkNotFound``."""
        async with self._uow() as uow:
            allowed(await uow.notes.visible(owner_id, note_id), note_id, Action.LINK)
            if not await uow.links.delete(owner_id, note_id, link_id):
                raise LinkNotFound(f"note {note_id} has no link {link_id}")
            await uow.commit()

    async def public_note(self, token: str, *, client: str = "") -> Note:
        """The note a link's ``token`` opens; ``PublicLinkNotFound`` for any token that
        opens nothing. Each request counts against the client address's allowance:
        ``PublicLinkThrottled`` beyond it."""
        now = self._clock.now()
        if self._public_limiter is not None:
            try:
                self._public_limiter.check(client, now)
            except TooManyAttempts as refused:
                raise PublicLinkThrottled(refused.retry_after) from refused
            self._public_limiter.count(client, now)
        owner_id = user_of(token) if len(token) <= _MAX_TOKEN else None
        if owner_id is None:
            raise PublicLinkNotFound("no such link")
        async with self._uow() as uow:
            note = await uow.links.note(owner_id, _digest(token), now)
        if note is None:
            raise PublicLinkNotFound("no such link")
        return note


_MAX_TOKEN: Final = 200


def _username_key(username: str) -> str | None:
    try:
        return Username(username).key
    except RuleViolation:
        return None


class Usernames:
    """Usernames by user id, remembered in bounded memory: a username never changes, so
    once read it is served without a round trip. Notes carry their owner's id; answers
    name the owner."""

    def __init__(self, uow: UnitOfWorkFactory, *, capacity: int = 65_536) -> None:
        self._uow = uow
        self._capacity = capacity
        self._known: OrderedDict[UUID, str] = OrderedDict()

    def remember(self, user_id: UUID, username: str) -> None:
        self._known[user_id] = username
        self._known.move_to_end(user_id)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)

    async def of(self, user_ids: Sequence[UUID]) -> dict[UUID, str]:
        """The usernames of these users; one round trip for those not yet known."""
        known = self._known
        missing = [i for i in set(user_ids) if i not in known]
        if missing:
            async with self._uow() as uow:
                found = await uow.users.usernames(missing)
            for user_id, name in found.items():
                self.remember(user_id, name)
        return {i: known[i] for i in set(user_ids) if i in known}

    async def names(self, notes: Sequence[Note]) -> dict[UUID, str]:
        """The username of each note's owner, by owner id."""
        return await self.of([note.owner_id for note in notes])
