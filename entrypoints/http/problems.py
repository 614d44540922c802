"""Every error the API answers with, in one table, rendered as RFC 9457 problem details.

``PROBLEMS`` maps an exception type to its status, title and problem type; an exception is
looked up by its class and then its bases, so a subclass (``InvalidTitle``) answers as the
entry it falls under (``InvalidNote``) unless it has its own. ``install`` registers one
handler for every entry, so routes never catch exceptions themselves.

What reaches a client is chosen, never passed through: the domain's rule messages and the
not-found and precondition messages are written for clients; anything an adapter or a
driver might say (a host name, SQL, a driver's message) is replaced by the entry's fixed
``detail``. An unexpected exception answers a bare 500; Starlette then re-raises it, and the
request middleware logs it once, with its traceback and the request id. A database failure
that is answered (503, 409) is noted on the request's context instead, for its log line and
the database-error metric.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from application import (
    Conflict,
    InvalidCredentials,
    InvalidData,
    NotAuthenticated,
    NoteNotFound,
    NotPermitted,
    OutcomeUnknown,
    Overloaded,
    PreconditionFailed,
    QuotaExceeded,
    SchemaOutdated,
    StorageUnavailable,
    TooManyAttempts,
    UsernameTaken,
    VersionRequired,
)
from application.feed import ResyncRequired
from application.finding import InvalidListing
from application.idempotency import IdempotencyKeyReused, InvalidIdempotencyKey
from application.notes import InvalidImport, InvalidImportedNote
from application.personal_tokens import InsufficientScope, TokenNotFound
from application.revisions import RevisionNotFound
from application.sharing import (
    LinkNotFound,
    PublicLinkNotFound,
    PublicLinkThrottled,
    ShareNotFound,
    UserNotFound,
)
from application.webhooks import WebhookNotFound
from domain import InvalidNote, RuleViolation
from domain.search import InvalidQuery
from entrypoints.http.context import request_context
from entrypoints.http.cursors import BadCursor
from entrypoints.http.etags import MalformedPrecondition, etag
from entrypoints.http.schemas import Problem

__all__ = [
    "CUT_OFF",
    "HEAD_TOO_LARGE",
    "MALFORMED_BODY",
    "PROBLEMS",
    "TOO_LARGE",
    "ProblemKind",
    "documented",
    "header_docs",
    "install",
    "kind_response",
    "problem_response",
]

RETRY_AFTER_SECONDS: Final = 1
_MAX_NAME = 100
_URN: Final = "urn:notes-service:problem:"


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """How one kind of error answers.

    ``status`` 0 takes the status from the exception (Starlette's ``HTTPException``), with
    its standard reason phrase as the title. ``detail`` is fixed text for errors whose own
    message is not for clients; ``None`` uses the message the exception was made with.
    """

    status: int
    title: str
    type: str = "about:blank"
    detail: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


_BEARER: Final = {"WWW-Authenticate": "Bearer"}

PROBLEMS: Final[Mapping[type[Exception], ProblemKind]] = {
    InvalidNote: ProblemKind(422, "Invalid note", _URN + "invalid-note"),
    RuleViolation: ProblemKind(422, "Invalid value", _URN + "invalid-value"),
    InvalidCredentials: ProblemKind(
        401,
        "Invalid credentials",
        _URN + "invalid-credentials",
        # One fixed text: the answer must not tell an unknown user from a wrong password.
        detail="The username or the password is wrong.",
        headers=_BEARER,
    ),
    NotAuthenticated: ProblemKind(
        401, "Not authenticated", _URN + "not-authenticated", headers=_BEARER
    ),
    UsernameTaken: ProblemKind(
        409, "Username taken", _URN + "username-taken", detail="This username is taken."
    ),
    BadCursor: ProblemKind(400, "Invalid cursor", _URN + "invalid-cursor"),
    MalformedPrecondition: ProblemKind(400, "Invalid If-Match", _URN + "invalid-if-match"),
    IdempotencyKeyReused: ProblemKind(
        409,
        "Idempotency-Key reused",
        _URN + "idempotency-key-reused",
        detail="This Idempotency-Key was first used with a different request; nothing changed.",
    ),
    TooManyAttempts: ProblemKind(
        429,
        "Too many failed logins",
        _URN + "too-many-attempts",
        detail="Too many failed logins for this username; retry after Retry-After seconds.",
    ),
    RequestValidationError: ProblemKind(422, "Invalid request", _URN + "invalid-request"),
    NoteNotFound: ProblemKind(404, "Note not found", _URN + "note-not-found"),
    RevisionNotFound: ProblemKind(404, "Revision not found", _URN + "revision-not-found"),
    WebhookNotFound: ProblemKind(404, "Webhook not found", _URN + "webhook-not-found"),
    NotPermitted: ProblemKind(403, "Not permitted", _URN + "not-permitted"),
    UserNotFound: ProblemKind(
        404, "User not found", _URN + "user-not-found", detail="No user has this username."
    ),
    ShareNotFound: ProblemKind(404, "Share not found", _URN + "share-not-found"),
    LinkNotFound: ProblemKind(404, "Link not found", _URN + "link-not-found"),
    # One answer for every token that opens nothing: unknown, expired, revoked, note deleted.
    PublicLinkNotFound: ProblemKind(
        404, "Not found", _URN + "link-not-found", detail="No note is published at this link."
    ),
    PublicLinkThrottled: ProblemKind(
        429,
        "Too many requests",
        _URN + "too-many-requests",
        detail="Too many requests for public links from this address; retry after "
        "Retry-After seconds.",
    ),
    PreconditionFailed: ProblemKind(412, "Precondition failed", _URN + "precondition-failed"),
    VersionRequired: ProblemKind(
        428,
        "Precondition required",
        _URN + "precondition-required",
        detail='This server requires If-Match with the note\'s ETag (as "3") on every write.',
    ),
    Conflict: ProblemKind(
        409,
        "Conflict",
        _URN + "conflict",
        detail="The request collided with a concurrent change and had no effect; retry it.",
    ),
    StorageUnavailable: ProblemKind(
        503,
        "Storage unavailable",
        _URN + "storage-unavailable",
        detail="The database cannot be reached; the request had no effect. Retry later.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    ),
    OutcomeUnknown: ProblemKind(
        503,
        "Outcome unknown",
        _URN + "outcome-unknown",
        detail="The connection to the database was lost after the write was sent: it may or "
        "may not have taken effect. Retry with the same Idempotency-Key, or check first.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    ),
    SchemaOutdated: ProblemKind(
        503,
        "Schema outdated",
        _URN + "schema-outdated",
        detail="The database's schema is behind this version of the service: run "
        "`notes db upgrade`.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    ),
    InvalidData: ProblemKind(
        422,
        "Invalid value",
        _URN + "invalid-value",
        detail="A value in the request is out of the range the storage takes; nothing changed.",
    ),
    Overloaded: ProblemKind(
        503,
        "Overloaded",
        _URN + "overloaded",
        detail="Too many logins and registrations are being checked; retry shortly.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    ),
    QuotaExceeded: ProblemKind(403, "Quota exceeded", _URN + "quota-exceeded"),
    InsufficientScope: ProblemKind(
        403,
        "Insufficient scope",
        _URN + "insufficient-scope",
        headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
    ),
    TokenNotFound: ProblemKind(404, "Token not found", _URN + "token-not-found"),
    ResyncRequired: ProblemKind(
        410,
        "Resync required",
        _URN + "resync-required",
        detail="The changes after this cursor are no longer kept: start again without `since`.",
    ),
    HTTPException: ProblemKind(0, ""),
    Exception: ProblemKind(
        500, "Internal Server Error", detail="The server failed to answer this request."
    ),
}

MALFORMED_BODY: Final = ProblemKind(400, "Malformed request body", _URN + "malformed-body")
"""A ``RequestValidationError`` about the body as a whole not being JSON: absent, malformed,
or sent with a content type other than ``application/json``. The body could not be read,
so no field can be blamed."""

CUT_OFF: Final = ProblemKind(
    503,
    "Shutting down",
    _URN + "shutting-down",
    detail="The server stopped before this request finished, so it may or may not have taken "
    "effect: check before retrying, or retry a create with the same Idempotency-Key.",
    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
)
"""A request still running when the server's graceful shutdown ran out of time."""

TOO_LARGE: Final = ProblemKind(413, "Content Too Large")
"""A body over the server's limit (``middleware``); nothing changed."""

HEAD_TOO_LARGE: Final = ProblemKind(431, "Request Header Fields Too Large")
"""A request line and headers over the server's limit (``edge``)."""

_ANSWER_HEADERS: Final[Mapping[type[Exception], tuple[str, ...]]] = {
    TooManyAttempts: ("Retry-After",),
    PreconditionFailed: ("ETag",),
}
"""Headers an answer carries beyond its kind's fixed ones, set from the exception."""

_HEADER_DOCS: Final = {
    "Retry-After": "Seconds to wait before trying again.",
    "WWW-Authenticate": "`Bearer`: send an access token.",
    "ETag": 'The note\'s current version, as `"3"`.',
}


def _kind_of(exc: Exception) -> ProblemKind:
    return _kind_of_type(type(exc))


def _kind_of_type(error: type[Exception]) -> ProblemKind:
    for cls in error.__mro__:
        kind = PROBLEMS.get(cls)
        if kind is not None:
            return kind
    return PROBLEMS[Exception]


def header_docs(names: Iterable[str]) -> dict[str, Any]:
    """The OpenAPI ``headers`` of a problem answer that sends ``names``."""
    return {
        name: {"description": _HEADER_DOCS[name], "schema": {"type": "string"}} for name in names
    }


def documented(errors: Iterable[type[Exception]]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of a route that may raise ``errors``, from the table: one per
    status, its description the titles of the kinds that answer with it, its headers theirs."""
    kinds: dict[int, list[tuple[ProblemKind, type[Exception]]]] = {}
    for error in errors:
        kind = _kind_of_type(error)
        if kind.status:
            kinds.setdefault(kind.status, []).append((kind, error))
    answers: dict[int | str, dict[str, Any]] = {}
    for status, found in sorted(kinds.items()):
        titles = list(dict.fromkeys(kind.title for kind, _ in found))
        headers = dict.fromkeys(
            name
            for kind, error in found
            for name in (*kind.headers, *_ANSWER_HEADERS.get(error, ()))
        )
        answers[status] = {"model": Problem, "description": "; ".join(titles) + "."}
        if headers:
            answers[status]["headers"] = header_docs(headers)
    return answers


def _is_malformed_body(error: Mapping[str, Any]) -> bool:
    loc = tuple(error.get("loc", ()))
    if not loc or loc[0] != "body":
        return False
    if error.get("type") == "json_invalid":
        return True
    # The body as a whole: missing, or left as bytes because it was not sent as JSON.
    return len(loc) == 1 and (
        error.get("type") == "missing" or isinstance(error.get("input"), bytes | bytearray)
    )


def _malformed_detail(error: Mapping[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        reason = error.get("ctx", {}).get("error", "malformed")
        return f"The body is not valid JSON: {reason} at character {error['loc'][-1]}."
    return "The request needs a JSON body, sent with Content-Type: application/json."


def _loc(loc: tuple[str | int, ...]) -> list[str | int]:
    """The location of an error; a name longer than any field's (an unknown field the client
    made up) is cut short rather than echoed whole."""
    return [
        part[:_MAX_NAME] + "…" if isinstance(part, str) and len(part) > _MAX_NAME else part
        for part in loc
    ]


def _field(loc: list[str | int]) -> str:
    """``["body", "tags", 2]`` as ``tags[2]``: the field, without where it was sent."""
    text = ""
    for part in loc[1:] or loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _summary(errors: list[dict[str, Any]]) -> str:
    first = errors[0]
    text = f"{_field(first['loc'])}: {first['msg']}"
    return text if len(errors) == 1 else f"{text} (and {len(errors) - 1} more)"


def _location(exc: RuleViolation) -> list[str | int]:
    """Where the offending value was sent: a listing's query parameter, a header, a note of
    an import (by its index), or the body."""
    if isinstance(exc, (InvalidListing, InvalidQuery)):
        return ["query", exc.field]
    if isinstance(exc, InvalidIdempotencyKey):
        return ["header", exc.field]
    if isinstance(exc, InvalidImportedNote):
        return ["body", exc.note_index, exc.field]
    if isinstance(exc, InvalidImport):
        return ["body"]
    return ["body", exc.field]


def _describe(exc: Exception, kind: ProblemKind) -> tuple[ProblemKind, dict[str, Any]]:
    """The kind that answers (refined for some exceptions) and the problem document."""
    problem: dict[str, Any] = {}
    if isinstance(exc, TooManyAttempts):
        kind = ProblemKind(
            kind.status,
            kind.title,
            kind.type,
            kind.detail,
            {**kind.headers, "Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, PreconditionFailed) and exc.actual is not None:
        kind = ProblemKind(
            kind.status, kind.title, kind.type, kind.detail, {"ETag": etag(exc.actual)}
        )
    if isinstance(exc, RuleViolation):
        loc: list[str | int] = _location(exc)
        if exc.index is not None:
            loc.append(exc.index)
        errors = [{"loc": loc, "msg": exc.message}]
        problem = {"detail": _summary(errors), "errors": errors}
    elif isinstance(exc, RequestValidationError):
        raw = list(exc.errors())
        malformed = next((error for error in raw if _is_malformed_body(error)), None)
        if malformed is not None:
            kind = MALFORMED_BODY
            problem = {"detail": _malformed_detail(malformed)}
        else:
            errors = [{"loc": _loc(error["loc"]), "msg": error["msg"]} for error in raw]
            problem = {"detail": _summary(errors), "errors": errors}
    elif isinstance(exc, HTTPException):
        phrase = HTTPStatus(exc.status_code).phrase
        kind = ProblemKind(exc.status_code, phrase, headers=exc.headers or {})
        problem = {"detail": exc.detail if isinstance(exc.detail, str) else phrase}
    elif kind.detail is None:
        problem = {"detail": str(exc)}
    return kind, problem


def problem_response(exc: Exception) -> Response:
    """The problem+json response that answers ``exc``."""
    kind, problem = _describe(exc, _kind_of(exc))
    return kind_response(kind, problem)


def kind_response(kind: ProblemKind, problem: Mapping[str, Any] | None = None) -> Response:
    """The problem+json response of ``kind``, with ``problem``'s members added."""
    body = {
        "type": kind.type,
        "title": kind.title,
        "status": kind.status,
        "detail": kind.detail,
        **(problem or {}),
    }
    return Response(
        json.dumps(body, ensure_ascii=False).encode(),
        status_code=kind.status,
        headers=dict(kind.headers),
        media_type=Problem.MEDIA_TYPE,
    )


def _allowed_methods(request: Request) -> str:
    """Every method some route takes at the request's path. Starlette's own ``Allow`` names
    only the first route that matched the path, and each route here takes one method."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


async def _handle(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        response = problem_response(exc)
        response.headers["Allow"] = _allowed_methods(request)
        return response
    if isinstance(exc, StorageUnavailable | Conflict):
        context = request_context(request.scope)
        if context is not None:
            context.failure = exc
    return problem_response(exc)


def install(app: FastAPI) -> None:
    """Answer every exception ``app`` raises with the problem its table entry describes."""
    for exc_type in PROBLEMS:
        app.add_exception_handler(exc_type, _handle)
