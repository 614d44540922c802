"""The clock and the id factory of a running service: real time, UUIDv7 ids."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from uuid import UUID

__all__ = ["SystemClock", "Uuid7Factory", "uuid7"]


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class Uuid7Factory:
    """Time-ordered UUIDs (RFC 9562 version 7).

    48 bits of Unix milliseconds, then a 12-bit counter that orders ids made within the same
    millisecond (RFC 9562, method 3), then 62 random bits. Ids from one factory are strictly
    increasing even when the clock stands still or steps back; ids from different processes
    are ordered to the millisecond.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0

    def new_id(self) -> UUID:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms > self._last_ms:
                self._last_ms = ms
                # Start low in the counter's range so that many ids fit in one millisecond.
                self._counter = int.from_bytes(os.urandom(2)) & 0x1FF
            else:
                self._counter += 1
                if self._counter > 0xFFF:
                    self._last_ms += 1
                    self._counter = 0
            ms, counter = self._last_ms, self._counter
        rand_b = int.from_bytes(os.urandom(8)) & ((1 << 62) - 1)
        value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand_b
        return UUID(int=value)


_default = Uuid7Factory()


def uuid7() -> UUID:
    """A new UUIDv7 from the process-wide factory."""
    return _default.new_id()
