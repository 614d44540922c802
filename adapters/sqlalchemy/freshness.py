"""Replacing every pooled connection made before a given moment, through pool events.

When one connection turns out dead (a restart, a failover) or attached to a read-only
server (a standby after a promotion), the others made as long ago most likely are too.
``retire_older`` marks the moment; a connection made before it is discarded when next
checked out (the pool's ``checkout`` event raises ``DisconnectionError``, which makes the
pool open a new one in its place), so no request fails on it.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["install", "retire_older"]

_BORN: Final = "notes_born"
# A counter, not a clock: two connections made in the same clock tick stay ordered.
_births = itertools.count(1)
_RETIRED: Final[weakref.WeakKeyDictionary[object, int]] = weakref.WeakKeyDictionary()


def install(engine: AsyncEngine) -> None:
    """Number each new connection of ``engine``'s pool, and discard retired ones on checkout."""
    key = engine.sync_engine
    _RETIRED[key] = 0

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _born(_dbapi_connection: Any, record: Any) -> None:
        record.info[_BORN] = next(_births)

    @sa.event.listens_for(engine.sync_engine, "checkout")
    def _check(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.get(_BORN, 0) <= _RETIRED.get(key, 0):
            raise sa.exc.DisconnectionError("made before the database changed hands")


def retire_older(engine: AsyncEngine) -> None:
    """Have every connection of ``engine`` made until now replaced when next checked out."""
    key = engine.sync_engine
    if key in _RETIRED:
        _RETIRED[key] = next(_births)
