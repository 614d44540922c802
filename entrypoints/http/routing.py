"""Declaring routes once and adding them to an app, each answering at both forms of its path.

Every path answers with and without the trailing slash, without redirecting; the OpenAPI
document shows the form it was declared with. A route names the errors it may raise, and
its documented error answers come from the table in ``problems``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from entrypoints.http.problems import documented

__all__ = ["Routes", "SlashRoute"]

_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])


class SlashRoute(APIRoute):
    """An ``APIRoute`` that answers at its path with and without the trailing slash, without
    redirecting: one route, documented (and labelled in logs and metrics) at the path it
    was declared with."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        stem = path.rstrip("/") or "/"
        if stem != "/":
            pattern = compile_path(stem)[0].pattern
            self.path_regex = re.compile(pattern.removesuffix("$") + "/?$")


class Routes:
    """A group of routes under one OpenAPI tag."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self._declared: list[tuple[str, str, Callable[..., Any], dict[str, Any]]] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        errors: Iterable[type[Exception]] = (),
        responses: dict[int | str, dict[str, Any]] | None = None,
        **options: Any,
    ) -> Callable[[_Endpoint], _Endpoint]:
        """Declare the endpoint for ``method`` at ``path``, which may raise ``errors`` (their
        answers are documented from ``problems``) and answers as ``responses`` say
        otherwise; ``install`` adds it to an app."""
        answers = {**documented(errors), **(responses or {})}

        def declare(endpoint: _Endpoint) -> _Endpoint:
            self._declared.append((method, path, endpoint, {**options, "responses": answers}))
            return endpoint

        return declare

    def install(self, app: FastAPI) -> None:
        """Add every route to ``app``."""
        for method, path, endpoint, options in self._declared:
            add_route(app, path, endpoint, methods=[method], tags=[self.tag], **options)


def add_route(app: FastAPI, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
    """Add ``endpoint`` at ``path`` (with and without the final slash) to ``app``."""
    app.router.add_api_route(
        path,
        endpoint,
        operation_id=endpoint.__name__,
        route_class_override=SlashRoute,
        **options,
    )
