"""The embedded PostgreSQL is private: another local user can neither plant its socket
directory nor connect; connecting needs the generated password; directories are 0700 and
no parent's permissions change; one cluster has one server, stopped by the last user out.

Acting as another user needs root (``nobody`` runs ``psql``); CI runs as root.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError
from entrypoints.signing_key import signing_key
from tests.api.client import make_settings
from tests.e2e.server import ServerProcess

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="acting as another user needs root")


def _nobody() -> tuple[int, int]:
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def _psql(
    server: EmbeddedPostgres, *, password: str = "", as_nobody: bool = False
) -> subprocess.CompletedProcess[str]:
    uid, gid = _nobody() if as_nobody else (os.geteuid(), os.getegid())
    return subprocess.run(
        [
            str(server.programs() / "psql"),
            "-w",
            "-h",
            str(server.socket_dir),
            "-U",
            "postgres",
            "-d",
            "notes",
            "-tAc",
            "SELECT count(*) FROM pg_authid",
        ],
        capture_output=True,
        text=True,
        cwd="/",
        env={"PATH": "/usr/bin:/bin", "PGPASSWORD": password},
        check=False,
        timeout=60,
        user=uid,
        group=gid,
        extra_groups=[] if as_nobody else None,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    data_dir = tmp_path_factory.mktemp("private") / "data" / "postgres"
    planted = _plant_old_socket_dir(data_dir)
    started = EmbeddedPostgres(data_dir)
    started.start()
    started.planted = planted  # type: ignore[attr-defined]
    yield started
    started.destroy()


def _plant_old_socket_dir(data_dir: Path) -> Path | None:
    """What the attack did: as ``nobody``, make the socket directory the service used to
    pick (predictable from the data directory's path) world-writable, before it starts."""
    if os.geteuid() != 0:
        return None
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
    planted = Path(tempfile.gettempdir()) / f"notes-pg-{digest}"
    uid, gid = _nobody()
    subprocess.run(
        ["/bin/sh", "-c", f"mkdir -p {planted} && chmod 1777 {planted}"],
        check=True,
        user=uid,
        group=gid,
        extra_groups=[],
    )
    return planted


def test_the_service_connects_with_its_password_and_nothing_connects_without(
    server: EmbeddedPostgres,
) -> None:
    with_password = _psql(server, password=server.password)
    assert with_password.returncode == 0, with_password.stderr
    without = _psql(server)
    assert without.returncode != 0
    assert "password" in without.stderr


def test_the_password_file_and_the_directories_are_private(server: EmbeddedPostgres) -> None:
    password_file = server.cluster_dir / "service_password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert len(server.password) >= 32
    for directory in (server.cluster_dir, server.socket_dir):
        info = directory.lstat()
        assert stat.S_ISDIR(info.st_mode)
        assert stat.S_IMODE(info.st_mode) & 0o077 == 0, oct(info.st_mode)
    hba = (server.cluster_dir / "pg_hba.conf").read_text()
    assert "trust" not in hba


@as_root
def test_a_planted_socket_directory_is_not_used(server: EmbeddedPostgres) -> None:
    planted: Path = server.planted  # type: ignore[attr-defined]
    assert server.socket_dir != planted
    assert not (planted / ".s.PGSQL.5432").exists()
    assert planted.stat().st_uid == _nobody()[0], "the planted one was taken over"


@as_root
def test_another_local_user_cannot_connect_even_with_the_socket_path(
    server: EmbeddedPostgres,
) -> None:
    attempt = _psql(server, as_nobody=True)
    assert attempt.returncode != 0
    assert "Permission denied" in attempt.stderr or "password" in attempt.stderr


def test_no_parent_directory_is_opened_up(tmp_path: Path) -> None:
    parent = tmp_path / "home"
    parent.mkdir(mode=0o700)
    before = {p: stat.S_IMODE(p.stat().st_mode) for p in (parent, tmp_path, tmp_path.parent)}
    server = EmbeddedPostgres(parent / "data" / "postgres")
    try:
        server.start()
        after = {p: stat.S_IMODE(p.stat().st_mode) for p in before}
        assert after == before
        assert stat.S_IMODE(server.cluster_dir.stat().st_mode) == 0o700
    finally:
        server.destroy()


@as_root
@pytest.mark.parametrize("planted", ["directory of another user", "symlink"])
def test_a_cluster_directory_planted_by_someone_else_is_refused(
    tmp_path: Path, planted: str
) -> None:
    server = EmbeddedPostgres(tmp_path / "postgres")
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    if planted == "symlink":
        server.cluster_dir.symlink_to(target)
    else:
        server.cluster_dir.mkdir(mode=0o700)
        os.chown(server.cluster_dir, *_nobody())
    try:
        with pytest.raises(EmbeddedPostgresError):
            server.start()
        assert not server.is_running()
    finally:
        server.cluster_dir.unlink() if planted == "symlink" else server.cluster_dir.rmdir()
    assert list(target.iterdir()) == []


def test_two_users_of_one_cluster_share_one_server_and_the_last_out_stops_it(
    tmp_path: Path,
) -> None:
    first = EmbeddedPostgres(tmp_path / "postgres")
    second = EmbeddedPostgres(tmp_path / "postgres")
    try:
        assert first.start() == second.start()
        first.stop()
        assert second.is_running(), "the first one out stopped the server under the second"
        assert _psql(second, password=second.password).returncode == 0
        second.stop()
        assert not second.is_running()
    finally:
        first.destroy()


def test_a_new_data_directory_is_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "notes-service"
    signing_key(make_settings(secret_key=None, database_url=None, data_dir=data_dir))
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_a_cluster_made_with_trust_gets_a_password_on_its_next_start(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "postgres")
    server.start()
    try:
        server.stop()
        # What earlier versions left: no password file, and trust in pg_hba.conf.
        (server.cluster_dir / "service_password").unlink()
        (server.cluster_dir / "pg_hba.conf").write_text("local all all trust\n")
        again = EmbeddedPostgres(tmp_path / "postgres")
        again.start()
        assert len(again.password) >= 32
        assert _psql(again, password=again.password).returncode == 0
        assert _psql(again).returncode != 0
        again.stop()
    finally:
        server.destroy()


def test_two_notes_serve_on_one_data_directory_share_its_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"NOTES_DATA_DIR": str(data), "NOTES_LOG_LEVEL": "warning", "NOTES_DATABASE_URL": ""}
    first = ServerProcess(env).start()
    second = ServerProcess(env).start()
    try:
        assert httpx.get(f"{second.base_url}/readyz", timeout=30).status_code == 200
        assert first.stop() == 0
        assert httpx.get(f"{second.base_url}/readyz", timeout=30).status_code == 200
        registered = httpx.post(
            f"{second.base_url}/users/",
            json={"username": "alice", "password": "correct horse battery"},
            timeout=30,
        )
        assert registered.status_code == 201, registered.text
        assert second.stop() == 0
        assert not EmbeddedPostgres(data / "postgres").is_running()
    finally:
        for server in (first, second):
            if server.process is not None and server.process.poll() is None:
                server.stop()
        EmbeddedPostgres(data / "postgres").destroy()
