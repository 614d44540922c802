"""Runs the contract suite on every backend."""

from __future__ import annotations

import pytest

from application import UnitOfWorkFactory
from tests.backends import BACKENDS, open_backend


@pytest.fixture(params=BACKENDS)
def uow_factory(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    return open_backend(request, request.param)
