"""The JSON shapes of sharing: shares, links, and a note as a public link shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from domain import Note
from domain.sharing import DEFAULT_LINK_DAYS, MAX_LINK_DAYS, Link, Share

__all__ = [
    "LinkCreate",
    "LinkPublic",
    "NewLinkPublic",
    "PublishedNote",
    "ShareCreate",
    "SharePublic",
    "link_json",
    "links_json",
    "published_json",
    "share_json",
    "shares_json",
]

_REQUEST = ConfigDict(strict=True, extra="forbid")


class ShareCreate(BaseModel):
    """What the grantee may do: `read`, or `write` (read and change; never delete, share
    or see revisions)."""

    model_config = _REQUEST | ConfigDict(json_schema_extra={"examples": [{"permission": "read"}]})

    permission: str = Field(description="`read` or `write`.")


class SharePublic(BaseModel):
    username: str = Field(description="The grantee.")
    permission: str = Field(description="`read` or `write`.")
    created_date: datetime = Field(description="When the note was first shared with them.")


class LinkCreate(BaseModel):
    model_config = _REQUEST

    expires_in_days: int = Field(
        default=DEFAULT_LINK_DAYS,
        description=f"How long the link works: 1 to {MAX_LINK_DAYS} days, "
        f"default {DEFAULT_LINK_DAYS}.",
    )


class LinkPublic(BaseModel):
    """A link, without its token (which is not kept)."""

    id: UUID
    created_date: datetime
    expires_date: datetime = Field(description="When it stops working (UTC).")


class NewLinkPublic(LinkPublic):
    """A new link: its URL carries the token, shown this once."""

    url: str = Field(description="The public URL: anyone holding it reads the note.")


class PublishedNote(BaseModel):
    """A note as a public link shows it: its content and dates, nothing else."""

    title: str
    description: str
    tags: list[str]
    created_date: datetime
    updated_date: datetime


def _share(share: Share) -> dict[str, Any]:
    return {
        "username": share.grantee,
        "permission": share.permission.value,
        "created_date": share.created_date,
    }


def share_json(share: Share) -> bytes:
    return to_json(_share(share))


def shares_json(shares: list[Share]) -> bytes:
    return to_json([_share(share) for share in shares])


def _link(link: Link) -> dict[str, Any]:
    return {"id": link.id, "created_date": link.created_date, "expires_date": link.expires_date}


def link_json(link: Link, url: str) -> bytes:
    return to_json({**_link(link), "url": url})


def links_json(links: list[Link]) -> bytes:
    return to_json([_link(link) for link in links])


def published_json(note: Note) -> bytes:
    return to_json(
        {
            "title": note.title.value,
            "description": note.description.value,
            "tags": list(note.tags.values),
            "created_date": note.created_date,
            "updated_date": note.updated_date,
        }
    )
