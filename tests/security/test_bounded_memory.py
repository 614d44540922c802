"""Memory a user's input can take is bounded: a thousand notes with distinct 100 KB
descriptions leave the server's resident memory where it was (the search tokenizer used to
cache every description's tokens, about 4.6 times its size, for good)."""

from __future__ import annotations

import gc
import random
import string
from pathlib import Path

import httpx
import pytest

from application import UnitOfWorkFactory
from tests.api.client import app_over, serving, sign_in
from tests.backends import open_backend

NOTES = 1000
DESCRIPTION = 100_000
BOUND = 50 * 1024 * 1024


def _words(rng: random.Random) -> str:
    words = ("".join(rng.choices(string.ascii_lowercase, k=7)) for _ in range(DESCRIPTION // 8))
    return " ".join(words)[:DESCRIPTION]


def _description(words: str, n: int) -> str:
    """A distinct description of ``DESCRIPTION`` characters (tokenized anew each time)."""
    return (f"note{n} " + words)[:DESCRIPTION]


STATUS = Path("/proc/self/status")


def _rss() -> int:
    """This process's resident memory in bytes (Linux's ``VmRSS``)."""
    gc.collect()
    for line in STATUS.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.fixture
def sqlite(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    """SQLite keeps the notes on disk, so what grows in this process is the server's."""
    return open_backend(request, "sqlite")


@pytest.mark.skipif(not STATUS.exists(), reason="reads resident memory from Linux's /proc")
async def test_a_thousand_long_distinct_descriptions_leave_memory_where_it_was(
    sqlite: UnitOfWorkFactory,
) -> None:
    uow_factory = sqlite
    words = _words(random.Random(15))
    async with serving(app_over(uow_factory)) as client:
        await sign_in(client)
        # Warm up: the first requests build what every later one reuses.
        for n in range(20):
            await _create(client, _description(words, n))
        before = _rss()
        for n in range(NOTES):
            await _create(client, _description(words, 100 + n))
        grown = _rss() - before
    assert grown < BOUND, f"resident memory grew by {grown / 2**20:.0f} MiB"


async def _create(client: httpx.AsyncClient, description: str) -> None:
    created = await client.post("/notes/", json={"title": "long", "description": description})
    assert created.status_code == 201, created.text
