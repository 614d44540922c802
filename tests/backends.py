"""The persistence backends the tests run on, each empty at the start of every test.

``BACKENDS`` names them; ``open_backend`` gives a unit-of-work factory over one. The contract
suite parametrizes over ``BACKENDS``, the API tests over ``API_BACKENDS``; neither names
a backend itself.
"""

from __future__ import annotations

import pytest

from application import UnitOfWorkFactory

BACKENDS = ["memory", "sqlite", "postgres", "pgbouncer_transaction", "pgbouncer_session", "mysql"]
"""``pgbouncer_*``: the PostgreSQL database through a real PgBouncer in that pool mode;
``mysql``: a MySQL or MariaDB database on the server of ``TEST_MYSQL_URL`` (skipped, saying
so, without one)."""


API_BACKENDS = [name for name in BACKENDS if not name.startswith("pgbouncer_")]
"""The backends the API tests run on: one of each kind of storage. What a pooler in front
of PostgreSQL changes is the adapter's to handle, and the contract suite and the
end-to-end PgBouncer tests check it in both pool modes."""


def open_backend(request: pytest.FixtureRequest, name: str) -> UnitOfWorkFactory:
    """A unit-of-work factory over an empty database of the named backend.

    Call it from a synchronous fixture: it sets up the backend's (async) fixtures.
    """
    if name not in BACKENDS:
        raise LookupError(name)
    database = request.getfixturevalue(f"{name}_database")
    factory: UnitOfWorkFactory = database.unit_of_work
    return factory
