"""Logins whose clients hung up are not hashed: they do not hold up the next real login."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.client import PASSWORD, SECRET_KEY
from tests.e2e.server import ServerProcess

ABANDONED = 40
# What the issue asks of a real login after the abandoned ones (it took 8.2 s before).
BOUND_S = 2.0


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    process = ServerProcess(
        {
            "NOTES_DATABASE_URL": "memory://",
            "NOTES_SECRET_KEY": SECRET_KEY,
            "NOTES_LOG_LEVEL": "warning",
            "NOTES_HASH_QUEUE": "1000",
        }
    ).start()
    try:
        yield process
    finally:
        process.stop()


def _abandon_login(port: int, username: str) -> None:
    body = f"username={username}&password=not+the+password".encode()
    request = (
        b"POST /auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(request)


def test_a_real_login_is_not_held_up_by_abandoned_ones(server: ServerProcess) -> None:
    registered = httpx.post(
        f"{server.base_url}/users/", json={"username": "alice", "password": PASSWORD}, timeout=30
    )
    assert registered.status_code == 201
    for n in range(ABANDONED):
        _abandon_login(server.port, f"ghost{n}")
    started = time.monotonic()
    login = httpx.post(
        f"{server.base_url}/auth/token",
        data={"username": "alice", "password": PASSWORD},
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert login.status_code == 200, login.text
    assert elapsed < BOUND_S, f"the login took {elapsed:.1f} s behind {ABANDONED} abandoned ones"
