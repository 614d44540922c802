"""The persistence backends the tests run on, each emptied before every test."""

from __future__ import annotations

import pytest

from adapters.memory import MemoryDatabase
from application import UnitOfWorkFactory

BACKENDS = ["memory"]


async def open_backend(request: pytest.FixtureRequest, name: str) -> UnitOfWorkFactory:
    """A unit-of-work factory over an empty database of the named backend."""
    if name == "memory":
        return MemoryDatabase().unit_of_work
    raise LookupError(name)
