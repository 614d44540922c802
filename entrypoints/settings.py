"""The service's settings, read from ``NOTES_*`` environment variables and a ``.env`` file.

Nothing is read at import time: ``Settings()`` reads the environment when it is called, so
the composition root decides when configuration happens (and tests pass values directly).
Environment variables win over the ``.env`` file, which wins over the defaults.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = [
    "MEMORY_URL",
    "LogFormat",
    "LogLevel",
    "Settings",
    "UnknownScheme",
    "default_data_dir",
    "is_memory_url",
    "normalised_database_url",
]

MEMORY_URL = "memory://"
"""The database URL of the in-memory backend: nothing persists past the process."""

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]
LogFormat = Literal["text", "json"]
DatabasePooler = Literal["none", "session", "transaction"]

# An origin as a browser sends it: scheme, host and optional port, nothing after.
_ORIGIN = re.compile(r"https?://[^\s/?#]+")

# Schemes a client may write, and the one the service uses for each.
_SCHEMES = {
    "memory": "memory",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "sqlite": "sqlite+aiosqlite",
    "mysql+asyncmy": "mysql+asyncmy",
    "mysql": "mysql+asyncmy",
    "mariadb+asyncmy": "mysql+asyncmy",
    "mariadb": "mysql+asyncmy",
}


def default_data_dir() -> Path:
    """Where the service keeps its data unless told otherwise: ``$XDG_DATA_HOME/notes-service``,
    or ``~/.local/share/notes-service`` when ``XDG_DATA_HOME`` is unset or not absolute (as the
    XDG base directory specification asks)."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "notes-service"


def is_memory_url(url: str) -> bool:
    """Whether ``url`` names the in-memory backend."""
    return url.partition(":")[0] == "memory"


class UnknownScheme(ValueError):
    """A database URL whose scheme names no backend the service has."""

    def __init__(self, scheme: str) -> None:
        super().__init__(
            f"must be memory://, postgresql://… or sqlite:///…, not a URL with scheme {scheme!r}"
        )
        self.scheme = scheme


def normalised_database_url(url: str) -> str:
    """``url`` with the async driver the service uses for its scheme; ``UnknownScheme``
    for a scheme that names no backend."""
    scheme, separator, rest = url.strip().partition("://")
    if not separator or scheme.lower() not in _SCHEMES:
        raise UnknownScheme(scheme)
    return f"{_SCHEMES[scheme.lower()]}://{rest}"


class Settings(BaseSettings):
    """Everything an operator can configure. Each field ``x`` is read from ``NOTES_X``."""

    model_config = SettingsConfigDict(
        env_prefix="NOTES_",
        env_file=".env",
        env_file_encoding="utf-8",
        validate_default=True,
    )

    database_url: str | None = Field(
        default=None,
        description=(
            "Where notes are stored: `memory://` (in the process, gone when it stops), "
            "`postgresql+asyncpg://user:password@host:port/database`, "
            "`sqlite+aiosqlite:///path/to/notes.sqlite3`, "
            "`mysql+asyncmy://user:password@host:port/database` (MySQL 8 or MariaDB 10.11+), "
            "or unset for a PostgreSQL server embedded in the service, kept under `data_dir`. "
            "`postgresql://`, `sqlite://`, `mysql://` and `mariadb://` are accepted and given "
            "the async driver."
        ),
    )
    database_pooler: DatabasePooler = Field(
        default="none",
        description="What stands between the service and PostgreSQL: `none` (or a pooler in "
        "session mode: `session`), or `transaction` for a pooler that hands server "
        "connections over at each transaction's end (PgBouncer's `pool_mode = transaction`). "
        "A client cannot tell a pooler's mode from the server's answers, so it is said here.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the embedded PostgreSQL keeps its data (in `postgres/`).",
    )
    pool_size: int = Field(default=20, ge=1, description="Database connections kept open.")
    max_overflow: int = Field(
        default=0,
        ge=0,
        description="Connections opened beyond `pool_size` under load. Each is closed when it "
        "is returned to a full pool, so a load that stays above `pool_size` opens a new "
        "server connection per request (a process forked on the server): raise `pool_size` "
        "rather than this.",
    )
    pool_timeout: float = Field(
        default=2.0, gt=0, description="Seconds a request waits for a free connection."
    )
    pool_recycle: float = Field(
        default=1800, gt=0, description="Seconds after which a connection is replaced."
    )
    connect_timeout: float = Field(
        default=2.0, gt=0, description="Seconds to wait for a new database connection."
    )
    statement_timeout: float = Field(
        default=15.0,
        gt=0,
        description="Seconds one database statement may take (lock waits included) before "
        "the request gets a 503: a database that hangs rather than stops fails requests "
        "instead of holding them.",
    )
    require_if_match: bool = Field(
        default=False,
        description="Make every PUT, PATCH and DELETE of a note conditional: without an "
        "`If-Match` header they get 428.",
    )
    revisions_kept: int = Field(
        default=100, ge=1, description="Revisions kept per note, the current one included."
    )
    trash_retention_days: int = Field(
        default=30, ge=1, description="Days a deleted note stays in the trash before it goes."
    )
    feed_retention_days: int = Field(
        default=90,
        ge=1,
        description="Days the change feed keeps events; an older cursor must start again.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs access tokens: at least 32 characters, kept secret, the same for "
        "every process of one service. With the embedded database and none set, one is "
        "generated once and kept in `data_dir`; with an explicit database URL it is required.",
    )
    access_token_ttl: int = Field(
        default=15 * 60, ge=30, le=24 * 3600, description="Seconds an access token stays valid."
    )
    refresh_token_ttl: int = Field(
        default=30 * 24 * 3600, ge=60, description="Seconds a refresh token stays valid."
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins per username allowed within the window."
    )
    login_failure_window: int = Field(
        default=15 * 60, ge=1, description="Seconds a failed login counts against a username."
    )
    login_max_failures_per_username: int = Field(
        default=20,
        ge=1,
        description="Failed logins per username allowed within the window from all client "
        "addresses together (`login_max_failures` counts those from one address).",
    )
    address_max_attempts: int = Field(
        default=100,
        ge=1,
        description="Failed logins and registrations one client address may make within the "
        "login window, per process.",
    )
    public_link_max_requests: int = Field(
        default=60,
        ge=1,
        description="Requests for public links (`GET /public/{token}`) one client address may "
        "make per minute, per process; beyond them 429.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks of reverse proxies whose `X-Forwarded-For` is "
        "believed (comma-separated); none by default: the socket's peer is the client.",
    )
    hash_queue: int = Field(
        default=32,
        ge=1,
        description="Password hashes (logins, registrations) that may wait or run at once per "
        "process; beyond it they get 503 with `Retry-After`.",
    )
    quota_notes: int = Field(default=100_000, ge=1, description="The most notes one user may keep.")
    quota_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=1,
        description="The most bytes (UTF-8) of titles and descriptions one user may keep.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, `/metrics` needs `Authorization: Bearer <this token>`.",
    )
    sweep_interval: float = Field(
        default=3600.0,
        ge=0,
        description="Seconds between the service's sweeps of old failed logins, expired "
        "refresh tokens and idempotency keys; 0: none (run `notes db sweep` from cron).",
    )
    webhooks_allow_private: bool = Field(
        default=False,
        description="Let webhooks call hosts that resolve to loopback, private or link-local "
        "addresses (for a service and its receivers on one private network).",
    )
    webhooks_worker: bool = Field(
        default=True,
        description="Run the webhook delivery worker inside the service (several processes "
        "may run it); false: this process delivers nothing.",
    )
    webhooks_poll_interval: float = Field(
        default=0.2,
        gt=0,
        le=60,
        description="Seconds the delivery worker waits, when nothing was due, before it "
        "looks for new events again.",
    )
    webhooks_lease: float = Field(
        default=60.0,
        gt=10,
        le=3600,
        description="Seconds a delivery worker holds a webhook after it last recorded "
        "attempts (more than an attempt's 10 s deadline); a process that dies mid-delivery "
        "leaves its webhooks to others after this long.",
    )
    webhooks_first_retry: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="Seconds before a failed delivery is first retried; each retry waits "
        "twice as long as the one before (with jitter), at most an hour, for 24 hours.",
    )
    log_level: LogLevel = Field(default="info", description="The server's log level.")
    access_log: bool = Field(
        default=True,
        description="Log one line per request (method, route, status, duration, ids) at "
        "`info`. Requests answered 5xx, or with a database failure, are logged either way.",
    )
    log_format: LogFormat = Field(
        default="text",
        description="`text`: one human-readable line per record; `json`: one JSON object per "
        "line, for a log collector.",
    )
    max_body_size: int = Field(
        default=1024 * 1024,
        ge=1,
        description="The largest request body accepted, in bytes; a larger one gets 413.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins whose browser pages may call the API (`https://app.example.com`), "
        "comma-separated or as a JSON list; `*` for any. None by default: no cross-origin "
        "access.",
    )
    shutdown_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds `notes serve` waits on SIGTERM for requests in flight to finish "
        "before it cuts them off.",
    )
    readiness_timeout: float = Field(
        default=1.0, gt=0, description="Seconds `/readyz` waits for the database to answer."
    )
    host: str = Field(default="127.0.0.1", description="The address `notes serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="The port `notes serve` uses.")
    max_header_size: int = Field(
        default=16 * 1024,
        ge=1024,
        description="The largest request line and headers `notes serve` takes, in bytes; a "
        "larger request head gets 431 and the connection is closed.",
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds `notes serve` gives a connection to send a whole request head, "
        "from when it opens or starts its next request; then it is closed.",
    )

    @field_validator("database_url", mode="before")
    @classmethod
    def _normalise_database_url(cls, value: object) -> object:
        """An empty value means unset; a known scheme gets the async driver the service uses;
        any other scheme is refused here rather than on the first request."""
        if not isinstance(value, str):
            return value
        value = value.strip()
        if not value:
            return None
        try:
            return normalised_database_url(value)
        except UnknownScheme as error:
            raise PydanticCustomError(
                "database_url_scheme",
                "must be memory://, postgresql+asyncpg://…, sqlite+aiosqlite:///… or "
                "mysql+asyncmy://…, "
                "not a URL with scheme '{scheme}'",
                {"scheme": error.scheme},
            ) from None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """``a, b`` or ``["a", "b"]`` from the environment; a list as given in code."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [origin.strip() for origin in text.split(",") if origin.strip()]

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        """Browsers compare origins exactly, so a path or a trailing slash would never match:
        refuse it at start-up rather than let CORS fail silently."""
        for origin in origins:
            if origin != "*" and _ORIGIN.fullmatch(origin) is None:
                raise PydanticCustomError(
                    "cors_origin",
                    "'{origin}' is not an origin: write scheme://host[:port], with no path",
                    {"origin": origin},
                )
        return origins

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        return [proxy.strip() for proxy in value.split(",") if proxy.strip()]

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise PydanticCustomError(
                    "trusted_proxy",
                    "'{proxy}' is not an IP address or network",
                    {"proxy": proxy},
                ) from None
        return proxies

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value
