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


class JwtAccessTokens:
    """Issues and verifies access tokens.

    A token carries the user id (``sub``), when it was issued and when it expires, and is
    valid only with the service's secret. Expiry is checked against the time the caller
    passes in (the service's clock), so it is testable without waiting.
    """

    def __init__(self, secret: str, *, ttl: timedelta = timedelta(minutes=15)) -> None:
        self._secret = secret
        self._ttl = ttl

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
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                # Time is checked below, against the service's clock rather than PyJWT's.
                options={
                    "require": ["sub", "exp", "iat"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
            if claims.get("typ") != _TYPE:
                raise NotAuthenticated("not an access token")
            moment = now.timestamp()
            if moment >= float(claims["exp"]):
                raise NotAuthenticated("the access token has expired")
            if float(claims["iat"]) > moment + _CLOCK_SKEW_S:
                raise NotAuthenticated("the access token was issued in the future")
            return UUID(str(claims["sub"]))
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise NotAuthenticated("invalid access token") from error
