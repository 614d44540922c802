"""Webhook messages: signed (``signing``) and sent (``sending``)."""

from adapters.webhooks.sending import HttpWebhookSender
from adapters.webhooks.signing import StandardWebhookSigning

__all__ = ["HttpWebhookSender", "StandardWebhookSigning"]
