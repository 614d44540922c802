"""A real ``notes serve`` process on a free port, for tests that go over the network."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

NOTES = str(Path(sys.executable).with_name("notes"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """``notes serve`` as a child process; ``start()`` returns once it answers ``/healthz``."""

    def __init__(self, env: Mapping[str, str], *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._env = {**os.environ, **env}
        self._args = args
        self.process: subprocess.Popen[bytes] | None = None
        # A file rather than a pipe: a pipe nobody reads fills up and blocks the server.
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.log = b""

    def start(self, timeout: float = 60) -> ServerProcess:
        command = [NOTES, "serve", "--host", "127.0.0.1", "--port", str(self.port), *self._args]
        self.process = subprocess.Popen(
            command, env=self._env, stdout=self._output, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"notes serve exited early:\n{self._drain()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"notes serve did not answer within {timeout} s:\n{self.log.decode()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``sig`` and wait for the exit; returns the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._drain()
        self.close()
        return code

    def _drain(self) -> str:
        self._output.seek(0)
        self.log = self._output.read()
        return self.log.decode(errors="replace")

    def close(self) -> None:
        self._output.close()
