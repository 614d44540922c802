"""Login throttling holds under concurrency: a burst of wrong passwords for one username,
sent at once, gets at most the configured number checked, in one process or in two; a
correct password inside a burst past the limit is refused; impossible usernames are
counted; one address spraying one password over many usernames is limited."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from adapters.security import Argon2PasswordHasher
from application import UnitOfWorkFactory
from entrypoints.http import create_app
from tests.api.client import PASSWORD, app_over, assert_problem, container_over, serving
from tests.e2e.server import ServerProcess

LIMIT = 5
WRONG = "not the password"


async def _burst(
    client: httpx.AsyncClient, passwords: list[str], username: str = "alice"
) -> list[httpx.Response]:
    return list(
        await asyncio.gather(
            *(
                client.post("/auth/token", data={"username": username, "password": password})
                for password in passwords
            )
        )
    )


async def test_sixty_wrong_passwords_at_once_get_at_most_the_limit_checked(
    anonymous: httpx.AsyncClient,
) -> None:
    await anonymous.post("/users/", json={"username": "alice", "password": PASSWORD})
    answers = await _burst(anonymous, [WRONG] * 60)
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) <= {401, 429}
    assert statuses[401] <= LIMIT
    assert statuses[429] >= 60 - LIMIT
    assert all(a.headers["Retry-After"].isdigit() for a in answers if a.status_code == 429)


async def test_the_correct_password_inside_a_burst_past_the_limit_is_refused(
    anonymous: httpx.AsyncClient,
) -> None:
    await anonymous.post("/users/", json={"username": "alice", "password": PASSWORD})
    answers = await _burst(anonymous, [WRONG] * 59 + [PASSWORD])
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses[200] == 0, "the correct password got through after the limit"
    assert statuses[401] <= LIMIT


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    "username",
    # Too long, a NUL, far too long, and bytes that are not UTF-8 (a surrogate's, and 0xFF).
    ["x" * 51, "ali%00ce", "a" * 5000, "%ED%A0%80", "%FF%FE"],
)
async def test_an_impossible_username_is_the_same_401_and_is_counted(
    anonymous: httpx.AsyncClient, username: str
) -> None:
    unknown = await anonymous.post("/auth/token", data={"username": "nobody", "password": WRONG})
    unknown_problem = assert_problem(unknown, 401)
    body = f"username={username}&password=not+the+password"
    for _ in range(LIMIT):
        answer = await anonymous.post("/auth/token", content=body, headers=FORM)
        assert assert_problem(answer, 401) == unknown_problem
    refused = await anonymous.post("/auth/token", content=body, headers=FORM)
    assert_problem(refused, 429)


async def _spray(client: httpx.AsyncClient, count: int, **headers: str) -> list[int]:
    statuses = []
    for n in range(count):
        answer = await client.post(
            "/auth/token", data={"username": f"user{n}", "password": PASSWORD}, headers=headers
        )
        statuses.append(answer.status_code)
    return statuses


async def test_one_password_sprayed_over_many_usernames_is_limited_per_address(
    uow_factory: UnitOfWorkFactory,
) -> None:
    app = app_over(uow_factory, address_max_attempts=10)
    async with serving(app) as client:
        statuses = await _spray(client, 15)
        assert statuses[:10] == [401] * 10
        assert statuses[10:] == [429] * 5
        # A forged X-Forwarded-For from an untrusted peer changes nothing.
        assert await _spray(client, 3, **{"X-Forwarded-For": "203.0.113.9"}) == [429] * 3


async def test_registrations_are_limited_per_address_too(uow_factory: UnitOfWorkFactory) -> None:
    app = app_over(uow_factory, address_max_attempts=3)
    async with serving(app) as client:
        statuses = [
            (
                await client.post("/users/", json={"username": f"user{n}", "password": PASSWORD})
            ).status_code
            for n in range(5)
        ]
    assert statuses == [201, 201, 201, 429, 429]


async def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_apart(
    uow_factory: UnitOfWorkFactory,
) -> None:
    # httpx's ASGI transport connects from 127.0.0.1.
    app = app_over(uow_factory, address_max_attempts=2, trusted_proxies=["127.0.0.1/32"])
    async with serving(app) as client:
        first = await _spray(client, 3, **{"X-Forwarded-For": "203.0.113.1"})
        # The client wrote the left entry; the proxy appended the address it saw.
        second = await _spray(client, 3, **{"X-Forwarded-For": "203.0.113.1, 198.51.100.2"})
    assert first == [401, 401, 429]
    assert second == [401, 401, 429]


async def test_a_full_hashing_queue_answers_503_with_retry_after(
    uow_factory: UnitOfWorkFactory,
) -> None:
    container = container_over(uow_factory, address_max_attempts=1000)
    # The production parameters, so that hashes queue up; at most two at once.
    container.password_hasher.override(
        providers.Singleton(Argon2PasswordHasher, threads=1, max_pending=2)
    )
    async with serving(create_app(container)) as client:
        answers = await asyncio.gather(
            *(
                client.post("/users/", json={"username": f"user{n}", "password": PASSWORD})
                for n in range(12)
            )
        )
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses[201] >= 2
    assert statuses[503] >= 1
    for answer in answers:
        if answer.status_code == 503:
            assert_problem(answer, 503)
            assert answer.headers["Retry-After"] == "1"


@pytest.fixture
def two_servers(postgres_url: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {
        "NOTES_DATABASE_URL": postgres_url,
        "NOTES_SECRET_KEY": "two-processes-Vq7wJ2nR9xKp4LzT8mYc3HdF6gBs0eUa",
        "NOTES_LOG_LEVEL": "warning",
        "NOTES_SWEEP_INTERVAL": "0",
        # A few connections each, waited for patiently: the server is shared.
        "NOTES_POOL_SIZE": "4",
        "NOTES_MAX_OVERFLOW": "0",
        "NOTES_POOL_TIMEOUT": "30",
    }
    first, second = ServerProcess(env).start(), ServerProcess(env).start()
    try:
        yield first, second
    finally:
        assert second.stop() == 0
        assert first.stop() == 0


def _post(url: str, data: dict[str, Any]) -> int:
    return httpx.post(url, data=data, timeout=60).status_code


def test_a_burst_split_over_two_processes_gets_at_most_the_limit_checked(
    two_servers: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = two_servers
    username = "burst-" + first.base_url.rsplit(":", 1)[1]
    registered = httpx.post(
        f"{first.base_url}/users/", json={"username": username, "password": PASSWORD}, timeout=60
    )
    assert registered.status_code == 201, registered.text
    targets = [first.base_url, second.base_url] * 30
    passwords = [WRONG] * 59 + [PASSWORD]
    with ThreadPoolExecutor(max_workers=60) as pool:
        statuses = Counter(
            pool.map(
                lambda job: _post(
                    f"{job[0]}/auth/token", {"username": username, "password": job[1]}
                ),
                zip(targets, passwords, strict=True),
            )
        )
    assert statuses[200] == 0
    assert statuses[401] <= LIMIT
    assert statuses[401] + statuses[429] == 60
