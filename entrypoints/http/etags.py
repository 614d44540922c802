"""Entity tags: a note's ``ETag`` is its version, and conditional requests name versions.

``If-Match`` on a write makes it conditional on the note's current version (RFC 9110,
13.1.1): a list of tags matches when any of them is current, ``*`` matches any existing note,
and a value that is not a list of entity tags is refused (``MalformedPrecondition``, 400).
``If-None-Match`` on a read lets a client that holds the current version skip the body (304).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "ANY",
    "MAX_IF_MATCH_LENGTH",
    "MAX_VERSION",
    "UNMATCHABLE_VERSION",
    "IfMatch",
    "MalformedPrecondition",
    "etag",
    "if_none_match_matches",
    "parse_if_match",
]

UNMATCHABLE_VERSION: Final = 0
"""A version no note ever has (versions start at 1): what a write is made conditional on
when its ``If-Match`` names no version, so that it fails as a stale one does."""

MAX_VERSION: Final = 2**63 - 1
"""The largest version a note can have (the databases keep it in a signed 64-bit integer)."""

MAX_IF_MATCH_LENGTH: Final = 1024
"""The longest ``If-Match`` value taken; a longer one is refused, not parsed."""

# RFC 9110, 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text
_ENTITY_TAG: Final = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')


class MalformedPrecondition(ValueError):
    """An ``If-Match`` that is not ``*`` or a list of entity tags, or names a version no note
    can have."""


@dataclass(frozen=True, slots=True)
class IfMatch:
    """What an ``If-Match`` asks: ``any`` current version (``*``), or one of ``versions``
    (empty when every tag sent is weak or names no version: nothing matches)."""

    any: bool = False
    versions: frozenset[int] = frozenset()


ANY: Final = IfMatch(any=True)


def etag(version: int) -> str:
    """The strong entity tag of a note at ``version``: ``"3"``."""
    return f'"{version}"'


def parse_if_match(header: str | None) -> IfMatch | None:
    """What the ``If-Match`` header ``header`` asks for; ``None`` without one.

    A weak tag never matches (``If-Match`` compares strongly), nor does a strong tag this API
    never hands out (``"abc"``); both are well-formed. ``MalformedPrecondition`` for anything
    else: a bare ``3``, a tag without its closing quote, a version beyond ``MAX_VERSION``, or
    a value over ``MAX_IF_MATCH_LENGTH`` characters.
    """
    if header is None:
        return None
    if len(header) > MAX_IF_MATCH_LENGTH:
        raise MalformedPrecondition(
            f"If-Match is longer than {MAX_IF_MATCH_LENGTH} characters; send the note's ETag"
        )
    value = header.strip(" \t")
    if value == "*":
        return ANY
    versions: set[int] = set()
    elements = [element.strip(" \t") for element in value.split(",")]
    if not any(elements):
        raise MalformedPrecondition('If-Match is empty; send the note\'s ETag, as "3"')
    for element in elements:
        if not element:
            continue  # RFC 9110, 5.6.1: empty list elements are ignored
        match = _ENTITY_TAG.fullmatch(element)
        if match is None:
            raise MalformedPrecondition(
                f'If-Match must be a list of entity tags, as "3" (quotes included), or *; '
                f"{element[:20]!r} is not one"
            )
        weak, opaque = match.groups()
        if weak or not (opaque.isascii() and opaque.isdigit()):
            continue
        version = int(opaque)
        if version > MAX_VERSION:
            raise MalformedPrecondition(f"If-Match names a version above {MAX_VERSION}")
        versions.add(version)
    return IfMatch(versions=frozenset(versions))


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
