"""Sending webhook messages to a real receiver: what is sent, what counts as an answer, and
which hosts are refused, at registration and at every attempt."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from adapters.webhooks import HttpWebhookSender
from domain.webhooks import InvalidWebhookUrl, WebhookUrl
from tests.webhook_receiver import receiving


@pytest.fixture
async def trusting() -> AsyncIterator[HttpWebhookSender]:
    sender = HttpWebhookSender(allow_private=True, timeout=2.0, max_response=1024)
    yield sender
    await sender.close()


@pytest.fixture
async def strict() -> AsyncIterator[HttpWebhookSender]:
    sender = HttpWebhookSender()
    yield sender
    await sender.close()


async def test_a_message_is_posted_with_its_headers_and_the_url_s_host(
    trusting: HttpWebhookSender,
) -> None:
    with receiving() as receiver:
        url = WebhookUrl(receiver.url.replace("127.0.0.1", "localhost") + "?x=1")
        answer = await trusting.send(url, {"webhook-id": "e1"}, b'{"a":1}')
        (got,) = receiver.wait_for(1)
    assert (answer.status_code, answer.error) == (200, None)
    assert got.path == "/hooks?x=1"
    assert got.body == b'{"a":1}'
    assert got.headers["webhook-id"] == "e1"
    assert got.headers["host"] == f"localhost:{url.port}"


@pytest.mark.parametrize("status", [500, 404, 302])
async def test_any_answer_but_2xx_is_a_failure_and_redirects_are_not_followed(
    trusting: HttpWebhookSender, status: int
) -> None:
    with receiving([status], location="http://127.0.0.1:9/elsewhere") as receiver:
        answer = await trusting.send(WebhookUrl(receiver.url), {}, b"{}")
        assert len(receiver.wait_for(1)) == 1
    assert answer.status_code == status


async def test_a_receiver_that_never_answers_is_a_failed_attempt(
    trusting: HttpWebhookSender,
) -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    port = listener.getsockname()[1]
    try:
        answer = await trusting.send(WebhookUrl(f"http://127.0.0.1:{port}/"), {}, b"{}")
    finally:
        listener.close()
    assert answer.status_code is None
    assert answer.error is not None
    assert "no answer" in answer.error


async def test_a_closed_port_is_a_failed_attempt(trusting: HttpWebhookSender) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    answer = await trusting.send(WebhookUrl(f"http://127.0.0.1:{port}/"), {}, b"{}")
    assert answer.status_code is None
    assert answer.error == "failed: ConnectError"


async def test_a_huge_answer_is_read_only_up_to_the_cap(trusting: HttpWebhookSender) -> None:
    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
        try:
            for _ in range(100_000):
                writer.write(b"x" * 65536)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(flood, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        answer = await trusting.send(WebhookUrl(f"http://127.0.0.1:{port}/"), {}, b"{}")
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/",
        "http://localhost:9/",
        "http://[::1]:9/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
async def test_hosts_that_are_not_public_are_refused_at_registration_and_at_sending(
    strict: HttpWebhookSender, url: str
) -> None:
    with pytest.raises(InvalidWebhookUrl, match="private"):
        await strict.check(WebhookUrl(url))
    answer = await strict.send(WebhookUrl(url), {}, b"{}")
    assert answer.status_code is None
    assert answer.error is not None
    assert answer.error.startswith("refused")


async def test_a_host_that_does_not_resolve_is_refused(strict: HttpWebhookSender) -> None:
    with pytest.raises(InvalidWebhookUrl, match="does not resolve"):
        await strict.check(WebhookUrl("https://no-such-host.invalid/"))


async def test_a_public_address_passes_the_check(strict: HttpWebhookSender) -> None:
    await strict.check(WebhookUrl("https://93.184.216.34/"))


async def test_a_connection_is_kept_alive_for_its_host_and_for_no_other_host(
    trusting: HttpWebhookSender,
) -> None:
    with receiving(keep_alive=True) as receiver:
        by_address = WebhookUrl(receiver.url)
        by_name = WebhookUrl(receiver.url.replace("127.0.0.1", "localhost"))
        for url in (by_address, by_address, by_name, by_address, by_name):
            assert (await trusting.send(url, {}, b"{}")).status_code == 200
        got = receiver.wait_for(5)
    hosts = [message.headers["host"].split(":")[0] for message in got]
    assert hosts == ["127.0.0.1", "127.0.0.1", "localhost", "127.0.0.1", "localhost"]
    # The same address, but each host has connections of its own.
    assert got[0].peer == got[1].peer == got[3].peer
    assert got[2].peer == got[4].peer
    assert got[0].peer != got[2].peer


async def test_a_host_that_resolves_elsewhere_is_checked_and_connected_to_anew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A kept connection serves its host only while the host still resolves to the address
    it goes to: after the change, the next message goes to the new address, checked."""
    resolves_to = ["127.0.0.1"]

    async def getaddrinfo(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        assert host == "hooks.example"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (resolves_to[0], port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    trusting = HttpWebhookSender(allow_private=True, timeout=2.0)
    strict = HttpWebhookSender(timeout=2.0)
    try:
        with receiving(keep_alive=True) as receiver:
            url = WebhookUrl(receiver.url.replace("127.0.0.1", "hooks.example"))
            assert (await trusting.send(url, {}, b"{}")).status_code == 200
            resolves_to[0] = "127.0.0.2"  # nothing listens there
            moved = await trusting.send(url, {}, b"{}")
            refused = await strict.send(url, {}, b"{}")
            assert len(receiver.received) == 1
    finally:
        await trusting.close()
        await strict.close()
    assert (moved.status_code, moved.error) == (None, "failed: ConnectError")
    assert refused.error is not None
    assert refused.error.startswith("refused")
