"""What the service learns about a request while handling it, for its log line and metrics.

The request middleware puts a ``RequestContext`` in the ASGI scope before the app sees the
request; code further in fills it (the caller's id once the token is checked, a storage
failure once it is answered) and the middleware reads it when the response is done. Outside
the middleware (an app driven without it) there is none, and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

__all__ = ["RequestContext", "request_context"]

_SCOPE_KEY: Final = "notes.request"


@dataclass(slots=True)
class RequestContext:
    """``request_id`` as sent back in ``X-Request-ID``; ``user_id`` of an authenticated caller;
    ``failure``: a failure of the database that was answered (503, 409) rather than raised."""

    request_id: str
    user_id: UUID | None = None
    failure: Exception | None = None

    def attach(self, scope: MutableMapping[str, Any]) -> None:
        scope[_SCOPE_KEY] = self


def request_context(scope: MutableMapping[str, Any]) -> RequestContext | None:
    """The context of the request ``scope`` belongs to, if the middleware made one."""
    context: RequestContext | None = scope.get(_SCOPE_KEY)
    return context
