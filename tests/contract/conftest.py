"""Runs the contract suite on every backend the test session can reach."""

from __future__ import annotations

import pytest

from application import UnitOfWorkFactory
from tests.backends import BACKENDS, open_backend


@pytest.fixture(params=BACKENDS)
async def uow_factory(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    return await open_backend(request, request.param)
