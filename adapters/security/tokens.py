"""Access tokens: JWTs signed with HMAC-SHA256, checked without any storage round trip."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final
from uuid import UUID

import jwt

from application.errors import NotAuthenticated
from application.ports import IssuedToken

__all__ = ["JwtAccessTokens"]

_ALGORITHM: Final = "HS256"
_TYPE: Final = "access"
# Several processes sign tokens; their clocks may disagree by this much.
_CLOCK_SKEW_S: Final = 30
_VERIFIED_CACHE_SIZE: Final = 4096
"""Tokens remembered as verified, the oldest forgotten first: about 1 MB at most."""


class JwtAccessTokens:
    """Issues and verifies access tokens.

    A token carries the user id (``sub``), when it was issued and when it expires, and is
    valid only with the service's secret. Expiry is checked against the time the caller
    passes in (the service's clock), so it is testable without waiting.
    """

    def __init__(self, secret: str, *, ttl: timedelta = timedelta(minutes=15)) -> None:
        self._secret = secret
        self._ttl = ttl
        # Tokens whose signature and claims were checked: (user id, issued at, expires at).
        # A client sends the same token on every request until it expires; its HMAC and
        # JSON decoding then cost a dictionary lookup. Time is still checked every time.
        self._verified: dict[str, tuple[UUID, float, float]] = {}

    def issue(self, user_id: UUID, now: datetime) -> IssuedToken:
        expires = now + self._ttl
        claims = {
            "sub": str(user_id),
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "typ": _TYPE,
        }
        token = jwt.encode(claims, self._secret, algorithm=_ALGORITHM)
        return IssuedToken(token=token, expires_in=int(self._ttl.total_seconds()))

    def verify(self, token: str, now: datetime) -> UUID:
        verified = self._verified.get(token)
        if verified is None:
            verified = self._decode(token)
            if len(self._verified) >= _VERIFIED_CACHE_SIZE:
                self._verified.pop(next(iter(self._verified)))
            self._verified[token] = verified
        user_id, issued, expires = verified
        moment = now.timestamp()
        if moment >= expires:
            raise NotAuthenticated("the access token has expired")
        if issued > moment + _CLOCK_SKEW_S:
            raise NotAuthenticated("the access token was issued in the future")
        return user_id

    def _decode(self, token: str) -> tuple[UUID, float, float]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                # Time is checked in verify(), against the service's clock rather than PyJWT's.
                options={
                    "require": ["sub", "exp", "iat"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
            if claims.get("typ") != _TYPE:
                raise NotAuthenticated("not an access token")
            return UUID(str(claims["sub"])), float(claims["iat"]), float(claims["exp"])
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise NotAuthenticated("invalid access token") from error
