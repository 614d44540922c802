"""Declaring routes once and adding them to an app, each answering at both forms of its path.

Every path answers with and without the trailing slash, without redirecting; the OpenAPI
document shows the form it was declared with. A route names the errors it may raise, and
its documented error answers come from the table in ``problems``.

A route may have a shortcut: an async function of the request that answers a well-formed
common request by calling the endpoint itself with the values FastAPI would give it, or
declines (``None``) before acting, leaving FastAPI's handler to answer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, ClassVar, TypeVar

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from entrypoints.http.problems import documented

__all__ = ["Routes", "Shortcut", "SlashRoute", "add_route"]

_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])

Shortcut = Callable[[Request], Awaitable[Response | None]]
"""Answers a request, or declines with ``None`` having acted on nothing."""


class SlashRoute(APIRoute):
    """An ``APIRoute`` that answers at its path with and without the trailing slash, without
    redirecting: one route, documented (and labelled in logs and metrics) at the path it
    was declared with. A subclass may set ``shortcut``, tried before FastAPI's handler."""

    shortcut: ClassVar[Shortcut | None] = None

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        stem = path.rstrip("/") or "/"
        if stem != "/":
            pattern = compile_path(stem)[0].pattern
            self.path_regex = re.compile(pattern.removesuffix("$") + "/?$")

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, after the route's shortcut if it has one."""
        handler = super().get_route_handler()
        shortcut = type(self).shortcut
        if shortcut is None:
            return handler

        async def shortcut_or_handler(request: Request) -> Response:
            response = await shortcut(request)
            return response if response is not None else await handler(request)

        return shortcut_or_handler


def _route_class(shortcut: Shortcut | None) -> type[SlashRoute]:
    """``SlashRoute``, or a subclass of it with ``shortcut``: ``APIRoute.__init__`` builds
    the handler, so the shortcut must be on the class before."""
    if shortcut is None:
        return SlashRoute
    return type("ShortcutRoute", (SlashRoute,), {"shortcut": staticmethod(shortcut)})


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
        shortcut: Shortcut | None = None,
        **options: Any,
    ) -> Callable[[_Endpoint], _Endpoint]:
        """Declare the endpoint for ``method`` at ``path``, which may raise ``errors`` (their
        answers are documented from ``problems``) and answers as ``responses`` say
        otherwise, with ``shortcut`` tried first; ``install`` adds it to an app."""
        answers = {**documented(errors), **(responses or {})}

        def declare(endpoint: _Endpoint) -> _Endpoint:
            self._declared.append(
                (method, path, endpoint, {**options, "responses": answers, "shortcut": shortcut})
            )
            return endpoint

        return declare

    def install(self, app: FastAPI, *, shortcuts: bool = True) -> None:
        """Add every route to ``app``; without ``shortcuts``, FastAPI's handler answers
        every request."""
        for method, path, endpoint, options in self._declared:
            if not shortcuts:
                options = {**options, "shortcut": None}
            add_route(app, path, endpoint, methods=[method], tags=[self.tag], **options)


def add_route(
    app: FastAPI,
    path: str,
    endpoint: Callable[..., Any],
    *,
    shortcut: Shortcut | None = None,
    **options: Any,
) -> None:
    """Add ``endpoint`` at ``path`` (with and without the final slash) to ``app``, with
    ``shortcut`` tried before FastAPI's handler."""
    app.router.add_api_route(
        path,
        endpoint,
        operation_id=endpoint.__name__,
        route_class_override=_route_class(shortcut),
        **options,
    )
