"""Database URLs as operators write them, made into what the drivers take.

PostgreSQL accepts several hosts, to follow a failover, in either form libpq knows:
``postgresql://u@h1:5432,h2:5433/db`` or ``postgresql://u@/db?host=h1:5432&host=h2:5433``
(``port=`` given apart works too). Both become the query form SQLAlchemy's asyncpg dialect
reads. With several hosts, ``target_session_attrs=read-write`` is the default, so a new
connection goes to whichever host is the primary now.

MySQL and MariaDB (``mysql://`` or ``mariadb://``) get the asyncmy driver and, unless the URL
says otherwise, the ``utf8mb4`` character set: every Unicode character, 4-byte ones included.
"""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy.engine import URL, make_url

__all__ = ["database_url"]

_NETLOC: Final = re.compile(r"^(?P<scheme>[^:/]+://)(?P<netloc>[^/?#]*)(?P<rest>.*)$", re.S)


def _hosts(netloc: str) -> tuple[str, tuple[str, ...]]:
    """The user part (with its ``@``) and the hosts of a ``netloc`` naming several hosts."""
    userinfo, at, hosts = netloc.rpartition("@")
    return userinfo + at, tuple(host for host in hosts.split(",") if host)


def database_url(url: str | URL) -> URL:
    """``url`` parsed, with the service's async driver, several PostgreSQL hosts in the
    query form and, then, ``target_session_attrs=read-write`` unless it says otherwise."""
    if isinstance(url, str):
        match = _NETLOC.match(url)
        if match is not None and "," in match["netloc"]:
            userinfo, listed = _hosts(match["netloc"])
            rest = match["rest"] or "/"
            separator = "&" if "?" in rest else "?"
            query = "&".join(f"host={host}" for host in listed)
            url = f"{match['scheme']}{userinfo}{rest}{separator}{query}"
        parsed = make_url(url)
    else:
        parsed = url
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        parsed = parsed.set(drivername="mysql+asyncmy")
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        return parsed
    if parsed.get_backend_name() != "postgresql":
        return parsed
    parsed = parsed.set(drivername="postgresql+asyncpg")
    hosts = _values(parsed, "host")
    ports = _values(parsed, "port")
    if ports and len(ports) == len(hosts) and all(":" not in host for host in hosts):
        # ``host=a&host=b&port=1&port=2``: the dialect takes ``host=a:1&host=b:2``.
        joined = tuple(f"{host}:{port}" for host, port in zip(hosts, ports, strict=True))
        parsed = parsed.difference_update_query(["port"]).update_query_dict({"host": joined})
        hosts = joined
    if len(hosts) > 1 and "target_session_attrs" not in parsed.query:
        parsed = parsed.update_query_dict({"target_session_attrs": "read-write"})
    return parsed


def _values(url: URL, name: str) -> tuple[str, ...]:
    value = url.query.get(name, ())
    return (value,) if isinstance(value, str) else tuple(value)
