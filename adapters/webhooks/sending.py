"""Sending webhook messages over HTTP, only to addresses that may be called.

The host is resolved on every attempt (DNS can change after registration), every address
it resolves to is checked (``domain.webhooks.is_public_address``, unless private networks
are allowed), and the connection is made to the checked address itself: the request goes
to that IP, with the URL's host in ``Host`` and, for https, as the TLS server name (httpx's
``sni_hostname`` extension), so the certificate is still verified for the host. No second
lookup happens between the check and the connection.

Connections are kept alive, each host (scheme, name, port) with a client and a pool of its
own: a connection is only ever reused for the host it was opened and verified for, never
for another host on the same address, and only while that host still resolves to the
address it goes to (every attempt resolves and checks anew, and a request to a newly
resolved address opens a new connection). A host's client is closed once it has been idle
for ``keepalive`` seconds. Redirects are not followed (a 3xx is a failed attempt); the
whole attempt has a deadline; at most ``max_response`` bytes of the answer are read, and a
connection whose answer was not read to its end is closed rather than reused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import httpx

from application.webhook_ports import Answer
from domain.webhooks import InvalidWebhookUrl, WebhookUrl, is_public_address

__all__ = ["HttpWebhookSender"]

_USER_AGENT: Final = "notes-service-webhooks/1"


class _Refused(Exception):
    """The host does not resolve, or resolves to an address that may not be called."""


_Host = tuple[str, str, int]
"""A URL's scheme, host name (or address literal) and port."""


@dataclass(slots=True)
class _HostClient:
    client: httpx.AsyncClient
    sending: int = 0
    idle_since: float = 0.0


class HttpWebhookSender:
    """``WebhookSender`` over httpx; ``close()`` when done."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = 10.0,
        max_response: int = 64 * 1024,
        keepalive: float = 30.0,
    ) -> None:
        self._allow_private = allow_private
        self._timeout = timeout
        self._max_response = max_response
        self._keepalive = keepalive
        self._tls = httpx.create_ssl_context()
        self._hosts: dict[_Host, _HostClient] = {}

    async def close(self) -> None:
        hosts, self._hosts = self._hosts, {}
        for host in hosts.values():
            await host.client.aclose()

    def _checkout(self, host: _Host) -> tuple[_HostClient, list[httpx.AsyncClient]]:
        """The host's own client (made on first use), counted as sending until the caller
        is done with it, and the clients idle for longer than ``keepalive``, taken out for
        the caller to close."""
        found = self._hosts.get(host)
        if found is None:
            found = self._hosts[host] = _HostClient(
                httpx.AsyncClient(
                    timeout=self._timeout,
                    follow_redirects=False,
                    trust_env=False,
                    verify=self._tls,
                    limits=httpx.Limits(keepalive_expiry=self._keepalive),
                )
            )
        found.sending += 1
        now = time.monotonic()
        idle = [
            self._hosts.pop(other).client
            for other, held in list(self._hosts.items())
            if not held.sending and now - held.idle_since > self._keepalive
        ]
        return found, idle

    async def _address(self, url: WebhookUrl) -> str:
        """The address to connect to: the first the host resolves to, once all of them are
        checked."""
        host = url.host
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                found = await asyncio.get_running_loop().getaddrinfo(
                    host, url.port, type=socket.SOCK_STREAM
                )
            except (OSError, UnicodeError) as error:
                raise _Refused("the host does not resolve") from error
            addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        if not addresses:
            raise _Refused("the host does not resolve")
        if not self._allow_private and not all(map(is_public_address, addresses)):
            raise _Refused("the host resolves to a loopback, private or link-local address")
        return addresses[0]

    async def check(self, url: WebhookUrl) -> None:
        try:
            await self._address(url)
        except _Refused as refused:
            raise InvalidWebhookUrl(str(refused)) from None

    async def send(self, url: WebhookUrl, headers: Mapping[str, str], body: bytes) -> Answer:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._send(url, headers, body)
        except _Refused as refused:
            return Answer(None, f"refused: {refused}")
        except TimeoutError:
            return Answer(None, f"no answer within {self._timeout:g} s")
        except httpx.HTTPError as error:
            return Answer(None, f"failed: {type(error).__name__}")

    async def _send(self, url: WebhookUrl, headers: Mapping[str, str], body: bytes) -> Answer:
        address = await self._address(url)
        target = httpx.URL(url.value)
        extensions = {}
        if target.scheme == "https":
            extensions["sni_hostname"] = url.host
        held, idle = self._checkout((target.scheme, url.host, url.port))
        try:
            for client in idle:
                await client.aclose()
            request = held.client.build_request(
                "POST",
                target.copy_with(host=address),
                headers={**headers, "host": target.netloc.decode(), "user-agent": _USER_AGENT},
                content=body,
                extensions=extensions,
            )
            response = await held.client.send(request, stream=True)
            try:
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read >= self._max_response:
                        break
            finally:
                await response.aclose()
        finally:
            held.sending -= 1
            held.idle_since = time.monotonic()
        return Answer(response.status_code)
