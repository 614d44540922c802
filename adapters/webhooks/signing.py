"""Webhook secrets, derived from the service's key, and Standard Webhooks signatures.

A webhook's secret is never stored. The database keeps a random seed per webhook; the
secret is HMAC-SHA256(K, seed), where K is derived from the service's signing key
(``NOTES_SIGNING_KEY``) for this one purpose. Reading the database alone gives no secret;
changing the service's key changes every webhook's secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from math import floor
from typing import Final

from standardwebhooks import Webhook

__all__ = ["StandardWebhookSigning"]

_PURPOSE: Final = b"notes-service webhook secret v1"
_SEED_BYTES: Final = 32


class StandardWebhookSigning:
    """``WebhookSigning`` with the key the service signs its tokens with."""

    def __init__(self, service_key: str) -> None:
        self._key = hmac.new(service_key.encode(), _PURPOSE, hashlib.sha256).digest()

    def new_seed(self) -> bytes:
        return secrets.token_bytes(_SEED_BYTES)

    def _secret_bytes(self, seed: bytes) -> bytes:
        return hmac.new(self._key, seed, hashlib.sha256).digest()

    def secret(self, seed: bytes) -> str:
        return "whsec_" + base64.b64encode(self._secret_bytes(seed)).decode()

    def headers(self, seed: bytes, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
        moment = at.astimezone(UTC)
        signature = Webhook(self._secret_bytes(seed)).sign(message_id, moment, body.decode())
        return {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(floor(moment.timestamp())),
            "webhook-signature": signature,
        }
