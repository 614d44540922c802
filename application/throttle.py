"""Limits per client address: how many attempts one address may make in a window.

Kept in the process, in bounded memory: at most ``max_addresses`` addresses, each with at
most ``limit`` moments; when full, the address seen least recently is forgotten first.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from datetime import datetime, timedelta

from application.errors import TooManyAttempts

__all__ = ["AddressLimiter"]


class AddressLimiter:
    """At most ``limit`` counted events per client address within ``window``.

    ``check`` raises ``TooManyAttempts`` (with the seconds until the oldest counted event
    leaves the window) once an address has ``limit`` events in it; ``count`` adds one.
    An empty address (unknown client) is never limited here.
    """

    def __init__(self, limit: int, window: timedelta, *, max_addresses: int = 10_000) -> None:
        self._limit = limit
        self._window = window
        self._max_addresses = max_addresses
        self._seen: OrderedDict[str, deque[datetime]] = OrderedDict()

    def check(self, address: str, now: datetime) -> None:
        moments = self._recent(address, now)
        if moments is not None and len(moments) >= self._limit:
            wait = moments[0] + self._window - now
            raise TooManyAttempts(max(1, math.ceil(wait.total_seconds())))

    def count(self, address: str, now: datetime) -> None:
        if not address:
            return
        moments = self._recent(address, now)
        if moments is None:
            moments = self._seen[address] = deque(maxlen=self._limit)
            while len(self._seen) > self._max_addresses:
                self._seen.popitem(last=False)
        moments.append(now)

    def _recent(self, address: str, now: datetime) -> deque[datetime] | None:
        moments = self._seen.get(address)
        if moments is None:
            return None
        self._seen.move_to_end(address)
        while moments and moments[0] <= now - self._window:
            moments.popleft()
        return moments
