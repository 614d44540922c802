"""The tables of webhooks and their delivery attempts (on the schema's ``metadata``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from adapters.sqlalchemy.tables import metadata
from adapters.sqlalchemy.types import UtcDateTime
from domain.webhooks import MAX_URL_LENGTH

__all__ = ["MAX_ERROR_LENGTH", "webhook_deliveries", "webhooks"]

MAX_ERROR_LENGTH = 200

webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("url", sa.String(MAX_URL_LENGTH), nullable=False),
    # The event types, space-separated.
    sa.Column("events", sa.String(200), nullable=False),
    # What the signing secret is derived from, with the service's key (never the secret).
    # VARBINARY(64) on MySQL, where BLOB(64) would become a TINYBLOB.
    sa.Column(
        "secret_seed",
        sa.LargeBinary(64).with_variant(mysql.VARBINARY(64), "mysql"),
        nullable=False,
    ),
    sa.Column("created_date", UtcDateTime(), nullable=False),
    # The delivery state: the seq of the last event done with, the failed attempts at the
    # next one (since first_failed_at), when it is due again, and the worker's lease.
    sa.Column("cursor", sa.BigInteger(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("first_failed_at", UtcDateTime(), nullable=True),
    sa.Column("retry_at", UtcDateTime(), nullable=True),
    sa.Column("claimed_until", UtcDateTime(), nullable=True),
    sa.Column("claim_token", sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint("owner_id", "id"),
    info={"owner": "owner_id"},
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("webhook_id", sa.Uuid(), nullable=False),
    # Time-ordered: a webhook's attempts, newest first, are a backward scan of the key.
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("event_id", sa.Uuid(), nullable=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("status_code", sa.Integer(), nullable=True),
    sa.Column("error", sa.String(MAX_ERROR_LENGTH), nullable=True),
    sa.Column("gave_up", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("owner_id", "webhook_id", "id"),
    info={"owner": "owner_id"},
)
