"""Password hashing (Argon2id) and access tokens (signed JWTs)."""

from adapters.security.passwords import Argon2PasswordHasher
from adapters.security.tokens import JwtAccessTokens

__all__ = ["Argon2PasswordHasher", "JwtAccessTokens"]
