"""The persistence backends the tests run on, each empty at the start of every test.

``BACKENDS`` names them; ``open_backend`` gives a unit-of-work factory over one. Suites that
must hold on every backend (the contract suite, the API tests) parametrize over
``BACKENDS`` and never name a backend themselves.
"""

from __future__ import annotations

import pytest

from application import UnitOfWorkFactory

BACKENDS = ["memory", "sqlite", "postgres", "pgbouncer_transaction", "pgbouncer_session", "mysql"]
"""``pgbouncer_*``: the PostgreSQL database through a real PgBouncer in that pool mode;
``mysql``: a MySQL or MariaDB database on the server of ``TEST_MYSQL_URL`` (skipped, saying
so, without one)."""


def open_backend(request: pytest.FixtureRequest, name: str) -> UnitOfWorkFactory:
    """A unit-of-work factory over an empty database of the named backend.

    Call it from a synchronous fixture: it sets up the backend's (async) fixtures.
    """
    if name not in BACKENDS:
        raise LookupError(name)
    database = request.getfixturevalue(f"{name}_database")
    factory: UnitOfWorkFactory = database.unit_of_work
    return factory
