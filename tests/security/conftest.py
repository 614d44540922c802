"""The security tests: each attack of issue #15, as it was made, against the fix.

The API fixtures (an app over every backend, signed in or not) are the API suite's.
"""

from __future__ import annotations

from tests.api.conftest import anonymous, client, shared_app, uow_factory

__all__ = ["anonymous", "client", "shared_app", "uow_factory"]
