"""Who is on the other end of a request: the client address throttling counts by.

The address is the socket's peer, unless the peer is one of the configured trusted proxies
(``NOTES_TRUSTED_PROXIES``): then it is the rightmost ``X-Forwarded-For`` entry that is not
itself a trusted proxy, since only the entries our own proxies appended can be believed;
anything to their left was written by the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request

from entrypoints.http.dependencies import container_of

__all__ = ["ClientDep", "Networks", "client_address", "get_client", "networks"]

Networks = Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]


def networks(specs: Iterable[str]) -> Networks:
    """``10.0.0.0/8``, ``127.0.0.1``, ``::1`` as networks; ``ValueError`` for anything else."""
    return [ipaddress.ip_network(spec.strip(), strict=False) for spec in specs]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Networks) -> bool:
    return any(address in network for network in trusted)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Networks) -> str:
    """The client's address as text, or ``""`` when it cannot be known."""
    address = _address(peer) if peer else None
    if address is None:
        return ""
    if not forwarded_for or not _trusted(address, trusted):
        return str(address)
    for entry in reversed(forwarded_for.split(",")):
        hop = _address(entry)
        if hop is None:
            # Garbage our proxy passed through: the last address we can vouch for.
            return str(address)
        address = hop
        if not _trusted(hop, trusted):
            break
    return str(address)


@lru_cache(maxsize=4)
def _configured(specs: tuple[str, ...]) -> Networks:
    """The trusted proxies' networks, parsed once per configuration (not per request)."""
    return networks(specs)


async def get_client(request: Request) -> str:
    """The calling client's address (see the module docstring)."""
    trusted = _configured(tuple(container_of(request).settings().trusted_proxies))
    peer = request.client.host if request.client is not None else None
    return client_address(peer, request.headers.get("x-forwarded-for"), trusted)


ClientDep = Annotated[str, Depends(get_client)]
