"""Password hashing (Argon2id), common passwords, and access tokens (signed JWTs)."""

from adapters.security.common_passwords import ZxcvbnCommonPasswords
from adapters.security.passwords import Argon2PasswordHasher
from adapters.security.tokens import JwtAccessTokens

__all__ = ["Argon2PasswordHasher", "JwtAccessTokens", "ZxcvbnCommonPasswords"]
