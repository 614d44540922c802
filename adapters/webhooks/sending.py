"""Sending webhook messages over HTTP, only to addresses that may be called.

The host is resolved on every attempt (DNS can change after registration), every address
it resolves to is checked (``domain.webhooks.is_public_address``, unless private networks
are allowed), and the connection is made to the checked address itself: the request goes
to that IP, with the URL's host in ``Host`` and, for https, as the TLS server name (httpx's
``sni_hostname`` extension), so the certificate is still verified for the host. No second
lookup happens between the check and the connection. Connections are not kept alive, so a
connection verified for one host is never reused for another on the same address.
Redirects are not followed (a 3xx is a failed attempt); the whole attempt has a deadline;
at most ``max_response`` bytes of the answer are read.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from typing import Final

import httpx

from application.webhook_ports import Answer
from domain.webhooks import InvalidWebhookUrl, WebhookUrl, is_public_address

__all__ = ["HttpWebhookSender"]

_USER_AGENT: Final = "notes-service-webhooks/1"


class _Refused(Exception):
    """The host does not resolve, or resolves to an address that may not be called."""


class HttpWebhookSender:
    """``WebhookSender`` over httpx; ``close()`` when done."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = 10.0,
        max_response: int = 64 * 1024,
    ) -> None:
        self._allow_private = allow_private
        self._timeout = timeout
        self._max_response = max_response
        self._client = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    async def close(self) -> None:
        await self._client.aclose()

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
        request = self._client.build_request(
            "POST",
            target.copy_with(host=address),
            headers={**headers, "host": target.netloc.decode(), "user-agent": _USER_AGENT},
            content=body,
            extensions=extensions,
        )
        response = await self._client.send(request, stream=True)
        try:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read >= self._max_response:
                    break
        finally:
            await response.aclose()
        return Answer(response.status_code)
