"""Declaring routes once and adding them to an app, each answering at both forms of its path.

Every path answers with and without the trailing slash, without redirecting; the OpenAPI
document shows the form it was declared with. Routes are added to the app's own router
(rather than through an included router), each a ``FastRoute`` (see ``fastpath``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI

from entrypoints.http.fastpath import FastRoute

__all__ = ["Routes"]

_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])


class Routes:
    """A group of routes under one OpenAPI tag."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self._declared: list[tuple[str, str, Callable[..., Any], dict[str, Any]]] = []

    def route(self, method: str, path: str, **options: Any) -> Callable[[_Endpoint], _Endpoint]:
        """Declare the endpoint for ``method`` at ``path``; ``install`` adds it to an app."""

        def declare(endpoint: _Endpoint) -> _Endpoint:
            self._declared.append((method, path, endpoint, options))
            return endpoint

        return declare

    def install(self, app: FastAPI) -> None:
        """Add every route to ``app``; each answers at its path with or without the final
        slash."""
        for method, path, endpoint, options in self._declared:
            app.router.add_api_route(
                path,
                endpoint,
                methods=[method],
                tags=[self.tag],
                operation_id=endpoint.__name__,
                route_class_override=FastRoute,
                **options,
            )
