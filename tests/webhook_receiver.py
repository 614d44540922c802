"""A real HTTP server that receives webhook messages, for tests and benchmarks.

``Receiver`` serves on a free port of 127.0.0.1 in a thread of its own, records every
request (its arrival time, headers and body) and answers each with the next status of its
script (200 once the script runs out); with ``hold_first``, the first answer waits until
that event is set. ``verify`` checks a message with the Standard
Webhooks algorithm, written out here independently of the service's signing library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Received", "Receiver", "receiving", "verify"]


@dataclass(frozen=True)
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(
        self,
        script: Sequence[int] = (),
        *,
        location: str | None = None,
        hold_first: threading.Event | None = None,
    ) -> None:
        self.script = list(script)
        self.location = location
        self.hold_first = hold_first
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    receiver.received.append(
                        Received(
                            time.time(),
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            status,
                        )
                    )
                    receiver._arrived.notify_all()
                    first = len(receiver.received) == 1
                if first and receiver.hold_first is not None:
                    receiver.hold_first.wait(60)
                try:
                    self.send_response(status)
                    if receiver.location is not None:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender is gone (a test killed it)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The first ``count`` requests, once they have arrived (``AssertionError`` if they
        do not within ``timeout`` seconds: a bound on waiting, not a timed assertion)."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.received) >= count, timeout)
            assert arrived, f"{len(self.received)} of {count} messages arrived"
            return list(self.received)


@contextmanager
def receiving(script: Sequence[int] = (), **options: Any) -> Iterator[Receiver]:
    receiver = Receiver(script, **options)
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join()


def verify(secret: str, message: Received, *, tolerance: float = 300.0) -> Any:
    """The message's JSON body, if its signature is valid for ``secret`` and its timestamp
    recent (Standard Webhooks); ``AssertionError`` otherwise."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    message_id = message.headers["webhook-id"]
    timestamp = message.headers["webhook-timestamp"]
    assert abs(time.time() - int(timestamp)) <= tolerance, "stale timestamp"
    signed = f"{message_id}.{timestamp}.".encode() + message.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    offered = [
        part.split(",", 1)[1].encode()
        for part in message.headers["webhook-signature"].split()
        if part.startswith("v1,")
    ]
    assert any(hmac.compare_digest(expected, sig) for sig in offered), "bad signature"
    return message.json()
