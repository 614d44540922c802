"""Cross-origin access for the browser pages of the origins an operator allows.

Starlette's CORS middleware, with the refusal of a preflight request answered as a problem
(400, ``application/problem+json``) like every other error, instead of plain text.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from entrypoints.http.problems import problem_response

__all__ = ["METHODS", "REQUEST_HEADERS", "RESPONSE_HEADERS", "ProblemCORSMiddleware"]

METHODS: Final = ["GET", "POST", "PUT", "PATCH", "DELETE"]
REQUEST_HEADERS: Final = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
]
"""What a page may send beyond the CORS-safelisted headers."""
RESPONSE_HEADERS: Final = ["ETag", "Location", "Link", "Retry-After", "X-Request-ID"]
"""What a page may read beyond the CORS-safelisted headers."""


class ProblemCORSMiddleware(CORSMiddleware):
    """``CORSMiddleware`` whose refused preflight is a 400 problem, keeping its headers."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        reason = bytes(response.body).decode()
        problem = problem_response(HTTPException(response.status_code, f"{reason}."))
        for name, value in response.headers.items():
            if name not in ("content-type", "content-length"):
                problem.headers[name] = value
        return problem
