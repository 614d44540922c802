"""``notes serve`` bounds what a connection may send before its request is read: a request
head over ``NOTES_MAX_HEADER_SIZE`` gets 431, and a connection that sends nothing, or only
part of a head, within ``NOTES_HEADER_TIMEOUT`` seconds is closed."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import ServerProcess

_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    env = {
        "NOTES_DATABASE_URL": "memory://",
        "NOTES_SECRET_KEY": "edge-limits-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "NOTES_MAX_HEADER_SIZE": "8192",
        "NOTES_HEADER_TIMEOUT": str(_TIMEOUT),
        "NOTES_LOG_LEVEL": "warning",
    }
    process = ServerProcess(env).start()
    yield process
    process.stop()


def _connect(server: ServerProcess) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    return connection


def _read_all(connection: socket.socket) -> bytes:
    """What the server sends until it closes the connection."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def test_a_head_within_the_limit_is_served(server: ServerProcess) -> None:
    answer = httpx.get(f"{server.base_url}/healthz", headers={"X-Padding": "a" * 6000})
    assert answer.status_code == 200


@pytest.mark.parametrize("where", ["header", "request line"])
def test_a_head_over_the_limit_is_431_and_closed(server: ServerProcess, where: str) -> None:
    with _connect(server) as connection:
        if where == "header":
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        else:
            connection.sendall(b"GET /healthz?q=")
        try:
            for _ in range(64):  # up to 4 MiB, far past the limit
                connection.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _read_all(connection)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"application/problem+json" in answer


def test_a_connection_that_sends_nothing_is_closed(server: ServerProcess) -> None:
    with _connect(server) as connection:
        opened = time.monotonic()
        assert _read_all(connection) == b""
        assert time.monotonic() - opened < 30


def test_a_connection_that_sends_half_a_head_is_closed(server: ServerProcess) -> None:
    with _connect(server) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        assert _read_all(connection) == b""


def test_a_kept_alive_connection_gets_the_same_deadline_for_its_next_head(
    server: ServerProcess,
) -> None:
    with _connect(server) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while not first.endswith(b'{"status":"ok"}'):
            first += connection.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        connection.sendall(b"GET /healthz HTTP/1.1\r\n")
        assert _read_all(connection) == b""
