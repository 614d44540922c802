"""A real PgBouncer in front of a test PostgreSQL server, on a free port.

The Debian package's ``pgbouncer`` (``.ci/run`` installs it); tests that need it skip with
the reason where it is missing, except under CI (``CI`` set), where they fail instead.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from tests.e2e.server import accepts_connections, free_port

__all__ = ["pgbouncer_binary", "require_pgbouncer", "running_pgbouncer"]

_START_TIMEOUT_S = 10.0


def pgbouncer_binary() -> str | None:
    """Where the ``pgbouncer`` program is, or ``None``."""
    found = shutil.which("pgbouncer")
    if found is None and Path("/usr/sbin/pgbouncer").exists():
        found = "/usr/sbin/pgbouncer"
    return found


def require_pgbouncer() -> str:
    """The ``pgbouncer`` program; skips the test without it (fails it under CI)."""
    found = pgbouncer_binary()
    if found is None:
        reason = "pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _upstream(server: URL) -> tuple[str, int, str | None]:
    """Host (or socket directory), port, and the socket directory's owner if a socket."""
    socket_dir = server.query.get("host")
    port = server.port or 5432
    if isinstance(socket_dir, str) and socket_dir.startswith("/"):
        owner = pwd.getpwuid(Path(socket_dir).stat().st_uid).pw_name
        return socket_dir, port, owner
    return server.host or "127.0.0.1", port, None


@contextmanager
def running_pgbouncer(
    server: URL, pool_mode: str, *, pool_size: int = 40, log: Path | None = None
) -> Iterator[URL]:
    """PgBouncer in ``pool_mode`` (``transaction`` or ``session``) in front of ``server``,
    for every database on it, ``pool_size`` server connections per database; yields
    ``server``'s URL with PgBouncer's address instead."""
    binary = require_pgbouncer()
    host, port, owner = _upstream(server)
    user = server.username or "postgres"
    scratch = Path(tempfile.mkdtemp(prefix="notes-pgbouncer-"))
    scratch.chmod(0o755)
    listen = free_port()
    users = scratch / "users.txt"
    users.write_text(f'"{user}" ""\n')
    config = scratch / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"* = host={host} port={port}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {listen}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {users}\n"
        f"pool_mode = {pool_mode}\ndefault_pool_size = {pool_size}\n"
        "max_client_conn = 1000\n"
    )
    for path in (users, config):
        path.chmod(0o644)
    command = [binary, str(config)]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        command[1:1] = ["-u", owner or "nobody"]
    output = (log or scratch / "pgbouncer.log").open("ab")
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not accepts_connections(listen):
            if process.poll() is not None or time.monotonic() > deadline:
                output.flush()
                text = (log or scratch / "pgbouncer.log").read_text(errors="replace")
                raise RuntimeError(f"pgbouncer did not start:\n{text[-2000:]}")
            time.sleep(0.05)
        yield server.difference_update_query(["host"]).set(host="127.0.0.1", port=listen)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()
        shutil.rmtree(scratch, ignore_errors=True)
