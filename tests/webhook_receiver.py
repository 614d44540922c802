"""A real HTTP server that receives webhook messages, for tests and benchmarks.

``Receiver`` serves on a free port of 127.0.0.1 in a thread of its own, records every
request (its arrival time, headers and body) and answers each with the next status of its
script (200 once the script runs out); with ``hold_first``, the first answer waits until
that event is set; with ``keep_alive``, it speaks HTTP/1.1 and keeps connections open
between requests (else HTTP/1.0: one request per connection). ``receiving_elsewhere`` runs
one in a process of its own (``python -m tests.webhook_receiver``), so that it shares no GIL
with the caller. ``verify`` checks a message with the Standard Webhooks algorithm, written
out here independently of the service's signing library.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["Received", "Receiver", "receiving", "receiving_elsewhere", "verify"]


@dataclass(frozen=True)
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    peer: int = 0
    """The sender's port: the same for requests that came over one connection."""

    def json(self) -> Any:
        return json.loads(self.body)

    def line(self) -> str:
        """The message as one line of JSON (``of_line`` reads it back)."""
        return json.dumps({**asdict(self), "body": self.body.decode("latin-1")})

    @classmethod
    def of_line(cls, line: str) -> Received:
        fields = json.loads(line)
        return cls(**{**fields, "body": fields["body"].encode("latin-1")})


class Receiver:
    def __init__(
        self,
        script: Sequence[int] = (),
        *,
        location: str | None = None,
        hold_first: threading.Event | None = None,
        keep_alive: bool = False,
    ) -> None:
        self.script = list(script)
        self.location = location
        self.hold_first = hold_first
        self.received: list[Received] = []
        self.on_receipt: Callable[[Received], None] | None = None
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
            # The answer's headers and body are written apart: on a kept connection, Nagle's
            # algorithm would hold the body back until the sender's delayed ACK (40 ms).
            disable_nagle_algorithm = True

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
                            self.client_address[1],
                        )
                    )
                    receiver._arrived.notify_all()
                    if receiver.on_receipt is not None:
                        receiver.on_receipt(receiver.received[-1])
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


class ElsewhereReceiver:
    """A receiver in another process, seen through the file it appends each message to."""

    def __init__(self, url: str, record: Path) -> None:
        self.url = url
        self._record = record

    @property
    def received(self) -> list[Received]:
        with self._record.open() as lines:
            return [Received.of_line(line) for line in lines if line.endswith("\n")]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """As ``Receiver.wait_for``, polling the record."""
        deadline = time.monotonic() + timeout
        while True:
            received = self.received
            if len(received) >= count:
                return received
            assert time.monotonic() < deadline, f"{len(received)} of {count} messages arrived"
            time.sleep(0.05)


@contextmanager
def receiving_elsewhere(*, keep_alive: bool = True) -> Iterator[ElsewhereReceiver]:
    """A receiver answering 200 to everything, in a process of its own."""
    with tempfile.TemporaryDirectory() as scratch:
        record = Path(scratch) / "received.jsonl"
        command = [sys.executable, "-m", "tests.webhook_receiver", str(record)]
        if keep_alive:
            command.append("--keep-alive")
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url, "the receiver did not start"
            yield ElsewhereReceiver(url, record)
        finally:
            process.terminate()
            process.wait(10)


def _serve(record: Path, *, keep_alive: bool) -> None:
    """Serve until terminated, appending each message to ``record`` as it arrives."""
    with record.open("a") as out:

        def write(message: Received) -> None:
            out.write(message.line() + "\n")
            out.flush()

        receiver = Receiver(keep_alive=keep_alive)
        receiver.on_receipt = write
        print(receiver.url, flush=True)
        receiver.server.serve_forever()


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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Receive webhook messages into a file.")
    parser.add_argument("record", type=Path)
    parser.add_argument("--keep-alive", action="store_true")
    options = parser.parse_args()
    _serve(options.record, keep_alive=options.keep_alive)
