"""Serving a route's well-formed requests without solving its dependencies anew each time.

On every request FastAPI walks the endpoint's dependency tree and inspects each parameter's
annotation again before validating it; for the service's small endpoints that costs more
than the endpoint itself. A ``FastRoute`` plans its endpoint's parameters once, when the
route is made, and then serves a request by:

* resolving the dependencies the plan knows (``FAST_DEPENDENCIES``: the use cases and the
  caller), in FastAPI's order, by the same code the dependencies run;
* validating path, query and header values with the very pydantic fields FastAPI uses;
* decoding a JSON body as FastAPI does (``json.loads`` of a body sent as JSON) and
  validating it with the body's field;
* calling the endpoint, which answers with a ``Response``.

Whenever a request is anything but well-formed (a value fails validation, a required one is
missing, the body is not JSON, dependency overrides are set) the plan steps aside and the
request, body included, goes to FastAPI's own handler: every error answer stays FastAPI's,
byte for byte. An exception from a dependency or the endpoint propagates exactly as it would
from FastAPI's handler, to the app's exception handlers. A route whose parameters the plan
does not cover (forms, cookies, unknown dependencies, an endpoint that does not return a
``Response``) is served by FastAPI's handler alone.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, get_type_hints

from fastapi import params
from fastapi._compat import ModelField
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import Message, Receive, Scope, Send

__all__ = ["FAST_DEPENDENCIES", "FastRoute"]

FastDependency = Callable[[Request], Awaitable[Any]]

FAST_DEPENDENCIES: Final[dict[Callable[..., Any], FastDependency]] = {}
"""Dependencies a plan may resolve, each by a function of the request that does what the
dependency (with its own sub-dependencies) does; filled in by ``dependencies``."""

_MUTABLE_DEFAULTS: Final = (list, dict, set)


class _StepAside(Exception):
    """The request is left to FastAPI's handler."""


@dataclass(frozen=True, slots=True)
class _Value:
    """One path, query or header parameter."""

    name: str
    key: str
    field: ModelField
    sequence: bool
    location: tuple[str, str]
    required: bool
    default: Any
    validate_default: bool

    def resolve(self, source: Any) -> Any:
        raw = source.getlist(self.key) if self.sequence else source.get(self.key)
        if raw is None or (self.sequence and not raw):
            if self.required:
                raise _StepAside
            value = (
                copy.deepcopy(self.default)
                if isinstance(self.default, _MUTABLE_DEFAULTS)
                else self.default
            )
            if not self.validate_default:
                return value
            raw = value
        validated, errors = self.field.validate(raw, {}, loc=self.location)
        if errors:
            raise _StepAside
        return validated


def _value(field: ModelField, location: str) -> _Value | None:
    info = field.field_info
    if info.validation_alias is not None or getattr(field, "validation_alias", None):
        return None
    key = field.alias  # header names: Starlette's Headers compare them case-insensitively
    annotation = info.annotation
    origin = getattr(annotation, "__origin__", None)
    sequence = origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set)
    return _Value(
        name=field.name,
        key=key,
        field=field,
        sequence=sequence,
        location=(location, field.alias),
        required=info.is_required(),
        default=info.default,
        validate_default=bool(info.validate_default),
    )


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media = content_type.partition(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


class _Plan:
    """How to resolve one endpoint's parameters without FastAPI's solver."""

    def __init__(
        self,
        dependencies: Sequence[tuple[str | None, FastDependency]],
        path: Sequence[_Value],
        query: Sequence[_Value],
        headers: Sequence[_Value],
        body: ModelField | None,
        request_name: str | None,
    ) -> None:
        self.dependencies = dependencies
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.request_name = request_name

    @classmethod
    def of(cls, route: APIRoute) -> _Plan | None:
        """The plan of ``route``, or None when it has a parameter the plan cannot serve."""
        dependant = route.dependant
        if (
            dependant.cookie_params
            or dependant.websocket_param_name
            or dependant.http_connection_param_name
            or dependant.response_param_name
            or dependant.background_tasks_param_name
            or dependant.security_scopes_param_name
        ):
            return None
        try:
            returns = get_type_hints(route.endpoint).get("return")
        except (NameError, TypeError):
            return None
        if not (inspect.isclass(returns) and issubclass(returns, Response)):
            return None
        if not inspect.iscoroutinefunction(route.endpoint):
            return None
        dependencies = []
        for sub in dependant.dependencies:
            fast = FAST_DEPENDENCIES.get(sub.call) if sub.call is not None else None
            if fast is None:
                return None
            dependencies.append((sub.name, fast))
        values: dict[str, list[_Value]] = {"path": [], "query": [], "header": []}
        for location, fields in (
            ("path", dependant.path_params),
            ("query", dependant.query_params),
            ("header", dependant.header_params),
        ):
            for field in fields:
                planned = _value(field, location)
                if planned is None:
                    return None
                values[location].append(planned)
        body = None
        if dependant.body_params:
            if route._embed_body_fields or len(dependant.body_params) != 1:
                return None
            body = dependant.body_params[0]
            if isinstance(body.field_info, (params.Form, params.File)):
                return None
        return cls(
            dependencies,
            values["path"],
            values["query"],
            values["header"],
            body,
            dependant.request_param_name,
        )

    async def resolve(self, request: Request, read: list[bytes]) -> dict[str, Any]:
        """The endpoint's arguments; ``_StepAside`` when FastAPI should answer instead. A body
        that was read is appended to ``read``."""
        arguments: dict[str, Any] = {}
        for name, dependency in self.dependencies:
            resolved = await dependency(request)
            if name is not None:
                arguments[name] = resolved
        for value in self.path:
            arguments[value.name] = value.resolve(request.path_params)
        if self.query:
            query = request.query_params
            for value in self.query:
                arguments[value.name] = value.resolve(query)
        if self.headers:
            headers = request.headers
            for value in self.headers:
                arguments[value.name] = value.resolve(headers)
        if self.body is not None:
            if not _is_json(request.headers.get("content-type")):
                raise _StepAside
            body = await request.body()
            read.append(body)
            if not body:
                raise _StepAside
            try:
                decoded = json.loads(body)
            except (ValueError, RecursionError) as error:
                raise _StepAside from error
            validated, errors = self.body.validate(decoded, {}, loc=("body",))
            if errors:
                raise _StepAside
            arguments[self.body.name] = validated
        if self.request_name is not None:
            arguments[self.request_name] = request
        return arguments


def _replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` that first gives back a body already read from it."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class FastRoute(APIRoute):
    """An ``APIRoute`` that serves well-formed requests through a plan (see the module's
    docstring) and everything else through FastAPI's handler.

    It answers at its path with and without the trailing slash, without redirecting: one
    route, documented (and labelled in logs and metrics) at the path it was declared with.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        stem = path.rstrip("/") or "/"
        if stem != "/":
            pattern = compile_path(stem)[0].pattern
            self.path_regex = re.compile(pattern.removesuffix("$") + "/?$")
        plan = _Plan.of(self)
        if plan is not None:
            self.app = self._planned(plan, self.app)

    def _planned(
        self, plan: _Plan, handler: Callable[[Scope, Receive, Send], Awaitable[None]]
    ) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        endpoint = self.endpoint
        overrides: Mapping[Any, Any] = getattr(
            self.dependency_overrides_provider, "dependency_overrides", {}
        )

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if overrides:
                await handler(scope, receive, send)
                return
            request = Request(scope, receive, send)
            read: list[bytes] = []
            try:
                arguments = await plan.resolve(request, read)
            except _StepAside:
                await handler(scope, _replaying(read[0], receive) if read else receive, send)
                return
            response: Response = await endpoint(**arguments)
            await response(scope, receive, send)

        return app
