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

__all__ = ["BadCursor", "CursorCodec"]

_MAC_BYTES: Final = 16
_CONTEXT: Final = b"notes-service cursor v1"


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
        payload = json.dumps(
            [position.moment.isoformat(), position.id.hex, position.score, listing],
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, cursor: str, listing: str) -> Position:
        try:
            encoded_payload, encoded_mac = cursor.split(".")
            payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
        except (ValueError, binascii.Error) as error:
            raise BadCursor("the cursor is malformed") from error
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise BadCursor("the cursor was not issued by this service")
        moment, ident, score, bound = json.loads(payload)
        if bound != listing:
            raise BadCursor("the cursor belongs to a different listing (order, tag or q)")
        return Position(
            moment=datetime.fromisoformat(moment), id=UUID(hex=ident), score=float(score)
        )
