"""Runs the contract suite on every backend, with two users, Alice and Bob, registered."""

from __future__ import annotations

import pytest

from application import UnitOfWorkFactory
from tests.backends import BACKENDS, open_backend
from tests.support import register_owners


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    return open_backend(request, request.param)


@pytest.fixture
async def uow_factory(backend: UnitOfWorkFactory) -> UnitOfWorkFactory:
    await register_owners(backend)
    return backend
