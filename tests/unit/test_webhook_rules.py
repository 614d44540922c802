"""The rules of webhooks: their URLs and events, the retry schedule, which addresses may be
called, and the secrets and signatures (checked with the Standard Webhooks algorithm)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from adapters.webhooks import StandardWebhookSigning
from domain.webhooks import (
    InvalidWebhookEvents,
    InvalidWebhookUrl,
    WebhookEvents,
    WebhookUrl,
    event_type_of,
    is_public_address,
    retry_delay,
)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hooks",
        "http://example.com:8080/a?b=c",
        "https://[2001:db8::1]/x",
        "https://93.184.216.34/",
    ],
)
def test_http_and_https_urls_with_a_host_are_accepted(url: str) -> None:
    assert WebhookUrl(url).value == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://example.com/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://user:pass@example.com/",
        "https://user@example.com/",
        "https:///path",
        "https://example.com:0/",
        "https://example.com:99999/",
        "https://exa mple.com/",
        "https://example.com/\x00",
        "https://ex\u00e4mple.com/",
        "/relative/path",
        "https://example.com/" + "a" * 2048,
    ],
)
def test_other_urls_are_refused_naming_the_url(url: str) -> None:
    with pytest.raises(InvalidWebhookUrl) as refused:
        WebhookUrl(url)
    assert refused.value.field == "url"


def test_the_port_defaults_by_scheme() -> None:
    assert WebhookUrl("https://Example.com/").port == 443
    assert WebhookUrl("http://example.com/").port == 80
    assert WebhookUrl("https://Example.com:8443/").host == "example.com"


def test_events_are_known_types_each_once_in_a_fixed_order() -> None:
    events = WebhookEvents.of(["note.deleted", "note.created", "note.deleted"])
    assert events.values == ("note.created", "note.deleted")
    with pytest.raises(InvalidWebhookEvents):
        WebhookEvents.of([])
    with pytest.raises(InvalidWebhookEvents) as refused:
        WebhookEvents.of(["note.created", "note.exploded"])
    assert refused.value.index == 1


def test_each_note_event_kind_maps_to_its_type_and_a_purge_is_not_delivered() -> None:
    assert [event_type_of(k) for k in ("created", "updated", "deleted", "restored")] == [
        "note.created",
        "note.updated",
        "note.deleted",
        "note.restored",
    ]
    assert event_type_of("purged") is None


def test_retries_wait_twice_as_long_each_time_up_to_an_hour_scaled_by_the_jitter() -> None:
    delays = [retry_delay(attempt, 1.0) for attempt in range(1, 14)]
    assert delays[:4] == [timedelta(seconds=s) for s in (5, 10, 20, 40)]
    assert all(a <= b for a, b in itertools.pairwise(delays))
    assert delays[-1] == timedelta(hours=1)
    assert retry_delay(3, 0.5) == timedelta(seconds=10)
    assert retry_delay(10_000, 1.0) == timedelta(hours=1)
    with pytest.raises(ValueError, match="jitter"):
        retry_delay(1, 1.5)


def test_a_failing_receiver_is_tried_for_a_day_in_a_bounded_number_of_attempts() -> None:
    elapsed, attempts = timedelta(0), 0
    while elapsed < timedelta(hours=24):
        attempts += 1
        elapsed += retry_delay(attempts, 0.5)
    assert 20 <= attempts <= 60


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "1.1.1.1"],
)
def test_global_addresses_may_be_called(address: str) -> None:
    assert is_public_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # the cloud metadata service
        "100.64.0.1",  # shared (carrier-grade NAT)
        "0.0.0.0",  # noqa: S104 - an address judged, not bound
        "255.255.255.255",
        "224.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
        "2002:7f00:0001::1",  # 6to4 around 127.0.0.1
        "ff02::1",
    ],
)
def test_loopback_private_link_local_and_other_non_global_addresses_may_not(
    address: str,
) -> None:
    assert not is_public_address(address)


def test_a_secret_is_derived_from_the_service_key_and_the_seed_and_stored_nowhere() -> None:
    signing = StandardWebhookSigning("service-key-" + "x" * 32)
    seed = signing.new_seed()
    secret = signing.secret(seed)
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert signing.secret(seed) == secret
    assert signing.secret(signing.new_seed()) != secret
    assert StandardWebhookSigning("another-key-" + "y" * 32).secret(seed) != secret
    assert seed not in base64.b64decode(secret.removeprefix("whsec_"))


def test_signatures_follow_the_standard_webhooks_algorithm() -> None:
    signing = StandardWebhookSigning("service-key-" + "x" * 32)
    seed = signing.new_seed()
    key = base64.b64decode(signing.secret(seed).removeprefix("whsec_"))
    at = datetime(2026, 12, 2, 4, 0, 0, 750_000, tzinfo=UTC)
    body = b'{"id":"e1","type":"note.created"}'
    headers = signing.headers(seed, "e1", at, body)
    assert headers["webhook-id"] == "e1"
    assert headers["webhook-timestamp"] == str(int(at.timestamp()))
    signed = b"e1." + headers["webhook-timestamp"].encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
