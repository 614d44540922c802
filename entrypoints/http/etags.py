"""Entity tags: a note's ``ETag`` is its version, and conditional requests name versions.

``If-Match`` on a write makes it conditional on the note's current version (412 otherwise);
``If-None-Match`` on a read lets a client that holds the current version skip the body (304).
"""

from __future__ import annotations

__all__ = ["UNMATCHABLE_VERSION", "etag", "if_match_version", "if_none_match_matches"]

UNMATCHABLE_VERSION = 0
"""A version no note ever has (versions start at 1): what a write is made conditional on
when its ``If-Match`` names no tag this API hands out, so it fails as a stale one does."""


def etag(version: int) -> str:
    """The strong entity tag of a note at ``version``: ``"3"``."""
    return f'"{version}"'


def _version(tag: str) -> int | None:
    """The version a strong tag names, or ``None`` for anything else (weak, malformed)."""
    inner = tag[1:-1]
    if len(tag) >= 3 and tag[0] == tag[-1] == '"' and inner.isascii() and inner.isdigit():
        return int(inner)
    return None


def if_match_version(header: str | None) -> int | None:
    """The version an ``If-Match`` header makes a write conditional on; ``None`` when the
    write is unconditional (no header, or ``*``: any current version).

    One strong tag is what a client that read the note sends. A weak tag never matches for
    ``If-Match`` (RFC 9110, 13.1.1), and neither does anything malformed; a list of several
    tags is not supported and is treated the same way. All of these give
    ``UNMATCHABLE_VERSION``.
    """
    if header is None:
        return None
    value = header.strip()
    if value == "*":
        return None
    version = _version(value)
    return UNMATCHABLE_VERSION if version is None else version


def if_none_match_matches(header: str | None, version: int) -> bool:
    """Whether an ``If-None-Match`` header names the note at ``version`` (weak comparison, as
    RFC 9110, 13.1.2 asks): then the client's copy is current."""
    if header is None:
        return False
    current = etag(version)
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == current:
            return True
    return False
