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


def accepts_connections(port: int) -> bool:
    """Whether something listens on ``port`` of the loopback interface."""
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        found.extend(int(child) for child in text.split())
    return found


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def environment(pid: int) -> dict[str, str]:
    """The environment process ``pid`` started with (Linux)."""
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (entry.decode(errors="replace").partition("=") for entry in entries if entry)
    return {name: value for name, _, value in pairs}


def _loopback_hex(port: int) -> str:
    return f"0100007F:{port:04X}"


def serving_process(server_port: int, client_port: int, candidates: list[int]) -> int | None:
    """Which of ``candidates`` holds the server end of the loopback TCP connection from
    ``client_port`` to ``server_port`` (Linux: the socket's inode from /proc/net/tcp, then
    each process's open files)."""
    local, remote = _loopback_hex(server_port), _loopback_hex(client_port)
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            inode = fields[9]
    if inode is None:
        return None
    wanted = f"socket:[{inode}]"
    for pid in candidates:
        for descriptor in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(descriptor) == wanted:
                    return pid
            except OSError:
                continue
    return None


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

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

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

    def workers(self) -> list[int]:
        """The pids of the worker processes serving requests (with ``--workers N``);
        multiprocessing's helper processes are left out."""
        return [
            pid
            for pid in children(self.pid)
            if "multiprocessing" in (line := command_line(pid)) and "resource_tracker" not in line
        ]

    def send(self, sig: int) -> None:
        assert self.process is not None, "not started"
        self.process.send_signal(sig)

    def wait(self, timeout: float = 60) -> int:
        """Wait for the process to exit; its exit code (killed, and -9, after ``timeout``)."""
        assert self.process is not None, "not started"
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``sig`` and wait for the exit; returns the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.wait(timeout)
        self._drain()
        self.close()
        return code

    def output(self) -> str:
        """Everything the server wrote so far (its log)."""
        return self._drain()

    def _drain(self) -> str:
        # The server writes through the same open file: reading at an offset leaves the
        # position it writes at alone (a seek would move it, and the server would overwrite).
        descriptor = self._output.fileno()
        self.log = os.pread(descriptor, os.fstat(descriptor).st_size, 0)
        return self.log.decode(errors="replace")

    def close(self) -> None:
        self._output.close()
