"""Declaring routes once and adding them to an app at both forms of their path.

Every path answers with and without the trailing slash, without redirecting; the second form
is left out of the OpenAPI document. Routes are added to the app's own router (rather than
through an included router), so each is a plain ``APIRoute`` there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI

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
        """Add every route to ``app``, at its path and at the twin path with or without the
        final slash."""
        for method, path, endpoint, options in self._declared:
            twin = path.removesuffix("/") if path.endswith("/") else f"{path}/"
            common = {"methods": [method], "tags": [self.tag], **options}
            app.add_api_route(path, endpoint, operation_id=endpoint.__name__, **common)
            app.add_api_route(twin, endpoint, include_in_schema=False, **common)
