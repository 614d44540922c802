"""Cursors: where the next page starts, sealed so that clients can hold but not make them.

A cursor carries a position (``application.Position``) and a digest of the listing it
belongs to (order, tags, search text), authenticated with HMAC-SHA256 under a key derived
from the service's signing key. A cursor that was forged, garbled, truncated, or made for a
different listing is refused with ``BadCursor`` (400), never misread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Final
from uuid import UUID

from application import Position
from application.feed import FeedPosition

__all__ = ["BadCursor", "CursorCodec"]

_MAC_BYTES: Final = 16
_CONTEXT: Final = b"notes-service cursor v1"
_FEED: Final = "feed"


class BadCursor(ValueError):
    """The cursor is not one this service issued for this listing."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def listing_digest(order: str, tags: Sequence[str], text: str | None) -> str:
    """What a cursor is bound to: the listing's order, tags (as a set) and search text."""
    canonical = json.dumps([order, sorted({t.lower() for t in tags}), text or ""])
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class CursorCodec:
    def __init__(self, signing_key: str) -> None:
        self._key = hmac.new(signing_key.encode(), _CONTEXT, hashlib.sha256).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, position: Position, listing: str) -> str:
        return self._sealed([position.moment.isoformat(), position.id.hex, position.score, listing])

    def _sealed(self, values: list[object]) -> str:
        payload = json.dumps(values, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def _opened(self, cursor: str) -> list[object]:
        try:
            encoded_payload, encoded_mac = cursor.split(".")
            payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
        except (ValueError, binascii.Error) as error:
            raise BadCursor("the cursor is malformed") from error
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise BadCursor("the cursor was not issued by this service")
        values = json.loads(payload)
        if not isinstance(values, list):
            raise BadCursor("the cursor belongs to a different listing")
        return values

    def encode_feed(self, position: FeedPosition) -> str:
        """A change feed's cursor (bound to the feed, not to a listing)."""
        snapshot = position.snapshot
        return self._sealed(
            [
                _FEED,
                position.seq,
                position.issued.isoformat(),
                None if snapshot is None else snapshot.moment.isoformat(),
                None if snapshot is None else snapshot.id.hex,
            ]
        )

    def decode_feed(self, cursor: str) -> FeedPosition:
        values = self._opened(cursor)
        if len(values) != 5 or values[0] != _FEED:
            raise BadCursor("the cursor belongs to a listing, not to the change feed")
        _, seq, issued, moment, ident = values
        snapshot = None
        if moment is not None:
            snapshot = Position(moment=datetime.fromisoformat(str(moment)), id=UUID(hex=str(ident)))
        return FeedPosition(
            seq=int(str(seq)), issued=datetime.fromisoformat(str(issued)), snapshot=snapshot
        )

    def decode(self, cursor: str, listing: str) -> Position:
        values = self._opened(cursor)
        if len(values) != 4:
            raise BadCursor("the cursor belongs to a different listing (order, tag or q)")
        moment, ident, score, bound = values
        if bound != listing:
            raise BadCursor("the cursor belongs to a different listing (order, tag or q)")
        return Position(
            moment=datetime.fromisoformat(str(moment)),
            id=UUID(hex=str(ident)),
            score=float(str(score)),
        )
