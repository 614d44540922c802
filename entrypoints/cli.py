"""The ``notes`` command: serve the API, manage the database schema, print the API document.

    notes --version
    notes serve [--host HOST] [--port PORT] [--workers N] [--reload] [--migrate]
    notes db upgrade [REVISION]       (default: head)
    notes db downgrade REVISION       (base: an empty schema)
    notes db current
    notes db distribute               (Citus: shard every per-user table by its owner)
    notes db copy SOURCE_URL TARGET_URL [--force] [--verify-only] [--batch-size N]
    notes openapi

Settings come from ``NOTES_*`` variables and ``.env`` (see ``entrypoints.settings``); the
options of ``serve`` override them. With no database URL configured, every command works on
the embedded PostgreSQL under ``data_dir``: ``serve`` starts it and applies the migrations
once, in this process, before any worker starts, hands its URL to the workers in
``NOTES_DATABASE_URL``, and stops it when the server exits, so several workers share one
database server. With a database URL configured, ``serve`` refuses to start, with one line
saying to run ``notes db upgrade``, while the schema is behind the migrations (``--migrate``
applies them first). ``serve`` settles the key that signs access tokens the same way (see
``entrypoints.signing_key``) and refuses to start, with a message saying why, without one.

On SIGTERM (or SIGINT) ``serve`` stops accepting connections, lets the requests in flight
finish for up to ``shutdown_timeout`` seconds, runs each worker's shutdown (which closes its
connection pool), stops the embedded database if it started it, and exits 0. With several
workers it gives them a fresh ``PROMETHEUS_MULTIPROC_DIR``, removed on exit, so ``/metrics``
from any worker reports all of them. The server sends no ``Server`` header, and writes no
access log of its own: the app logs each request (see ``entrypoints.http.middleware``).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from entrypoints.copy_command import add_copy_parser, copy_command
from entrypoints.logs import server_log_config
from entrypoints.settings import Settings, is_memory_url
from entrypoints.signing_key import WeakSecret, signing_key

__all__ = ["main"]

APP_FACTORY = "entrypoints.http:create_app"
# Read by prometheus-client when a worker imports it; see entrypoints.http.metrics.
_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"


class CommandError(Exception):
    """A failure the command explains in one line (with the next step) and exits 1 for."""


def _version() -> str:
    try:
        return version("notes-service")
    except PackageNotFoundError:
        return "0+unknown"


def _port(text: str) -> int:
    """A TCP port, 1 to 65535, for argparse."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: choose one from 1 to 65535")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="notes", description="The notes service.")
    parser.add_argument("--version", action="version", version=f"notes {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the API over HTTP")
    serve.add_argument("--host", help="address to listen on (default: NOTES_HOST or 127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, help="port to listen on, 1-65535 (default: NOTES_PORT or 8000)"
    )
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    serve.add_argument("--reload", action="store_true", help="restart when the code changes")
    serve.add_argument(
        "--migrate", action="store_true", help="apply the migrations to the database first"
    )

    db = commands.add_parser("db", help="manage the database schema")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="apply migrations")
    upgrade.add_argument("revision", nargs="?", default="head", help="target (default: head)")
    downgrade = actions.add_parser("downgrade", help="revert migrations")
    downgrade.add_argument("revision", help="target revision (base: before the first)")
    actions.add_parser("current", help="print the revision the database is at")
    actions.add_parser(
        "distribute", help="on Citus: make users a reference table, shard the rest by owner"
    )
    actions.add_parser(
        "sweep",
        help="forget old failed logins and expired refresh tokens and idempotency keys "
        "(for cron, when NOTES_SWEEP_INTERVAL=0)",
    )

    add_copy_parser(actions)

    commands.add_parser("openapi", help="print the OpenAPI document as JSON")
    return parser


@contextmanager
def _database(settings: Settings) -> Iterator[tuple[str, bool]]:
    """The database URL, and whether it is the embedded server started here (stopped on
    leaving, unless another process was already running it)."""
    if settings.database_url is not None:
        yield settings.database_url, False
        return
    from adapters.embedded_postgres import EmbeddedPostgres

    server = EmbeddedPostgres(settings.data_dir / "postgres")
    url = server.start()
    try:
        yield url, True
    finally:
        server.stop()


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from entrypoints.http.edge import LimitedHttpToolsProtocol

    if args.reload and args.workers != 1:
        print("notes serve: --reload and --workers cannot be combined", file=sys.stderr)
        return 2
    memory = settings.database_url is not None and is_memory_url(settings.database_url)
    if memory and args.workers > 1:
        print("notes serve: with memory://, each worker keeps notes of its own", file=sys.stderr)
    options: dict[str, Any] = {
        "factory": True,
        "host": args.host or settings.host,
        "port": args.port if args.port is not None else settings.port,
        "workers": args.workers,
        "reload": args.reload,
        "lifespan": "on",
        "log_level": settings.log_level,
        "log_config": server_log_config(settings.log_level, settings.log_format),
        "access_log": False,
        "server_header": False,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
        "http": LimitedHttpToolsProtocol,
    }
    try:
        key = signing_key(settings)
    except WeakSecret as error:
        print(f"notes serve: {error}", file=sys.stderr)
        return 2
    _check_port(options["host"], options["port"])
    _check_database_url(settings.database_url)
    with _stop_signals() as stopping, _database(settings) as (url, embedded):
        if (embedded or args.migrate) and not memory and not stopping:
            from adapters.sqlalchemy import migrate

            migrate.upgrade(url)
        elif not memory and not stopping:
            _check_reachable(url)
            if (problem := _schema_problem(url)) is not None:
                print(f"notes serve: {problem}", file=sys.stderr)
                return 2
        if not stopping:
            line = _startup_line(options["host"], options["port"], url, embedded, settings)
            if settings.log_format == "json":  # the log is one JSON object a line
                line = json.dumps({"level": "info", "logger": "entrypoints.cli", "message": line})
            print(line, flush=True)
            with ExitStack() as serving:
                # The workers get the database and the signing key this process settled on.
                serving.enter_context(_environment("NOTES_DATABASE_URL", url))
                serving.enter_context(_environment("NOTES_SECRET_KEY", key))
                if args.workers > 1:
                    metrics_dir = serving.enter_context(
                        tempfile.TemporaryDirectory(prefix="notes-metrics-")
                    )
                    serving.enter_context(_environment(_METRICS_DIR, metrics_dir))
                uvicorn.run(APP_FACTORY, **options)
    return 0


def _schema_problem(url: str) -> str | None:
    """Why the schema at ``url`` cannot be served, or ``None`` (also when the database
    stopped answering since ``_check_reachable``: ``/readyz`` says so until it answers)."""
    from adapters.sqlalchemy import migrate
    from adapters.sqlalchemy.errors import DRIVER_ERRORS

    try:
        revision = migrate.current(url)
    except DRIVER_ERRORS:
        return None
    history = migrate.history()
    if not history.is_behind(revision):
        return None
    return (
        f"the database schema is at {revision or 'no revision'}, behind this version's "
        f"{history.head}: run `notes db upgrade` (or `notes serve --migrate`)"
    )


@contextmanager
def _stop_signals() -> Iterator[list[int]]:
    """SIGTERM and SIGINT end serving; they do not end this process.

    Uvicorn handles them while it serves, and afterwards raises the signal again for whatever
    handler was there before. Without this one, that is the default handler, which kills
    the process before it can stop the embedded database. The list holds the signals
    received, so a stop asked for during start-up skips serving.
    """
    received: list[int] = []
    watched = (signal.SIGTERM, signal.SIGINT)
    previous = {number: signal.getsignal(number) for number in watched}
    for number in watched:
        signal.signal(number, lambda number, _frame: received.append(number))
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _check_port(host: str, port: int) -> None:
    """``CommandError`` unless ``host``:``port`` can be listened on now (before anything
    starts: a port in use is found before the embedded database is started and migrated)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as error:
        raise CommandError(
            f"cannot listen on {host}: {error}; check --host or NOTES_HOST"
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"port {port} on {host} is in use; stop what listens there, or choose "
                    "another port with --port or NOTES_PORT"
                ) from None
            raise CommandError(
                f"cannot listen on {host}:{port}: {error.strerror}; check --host or NOTES_HOST"
            ) from None


def _check_database_url(url: str | None) -> None:
    """``CommandError`` for a SQLite database in a folder that does not exist."""
    if url is None or not url.startswith("sqlite"):
        return
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if database and database != ":memory:" and not Path(database).parent.is_dir():
        raise CommandError(
            f"the SQLite database {database} cannot be made: its folder "
            f"{Path(database).parent} does not exist. Create it, or fix NOTES_DATABASE_URL "
            "(an absolute path takes four slashes: sqlite:////srv/notes.sqlite3)"
        )


def _safe_url(url: str) -> str:
    from adapters.sqlalchemy.urls import database_url

    return database_url(url).render_as_string(hide_password=True)


def _unreachable(url: str, error: BaseException) -> CommandError:
    from entrypoints.http.middleware import describe_failure

    return CommandError(
        f"cannot reach the database at {_safe_url(url)} ({describe_failure(error)}); check "
        "that it runs and accepts connections, and NOTES_DATABASE_URL"
    )


def _check_reachable(url: str) -> None:
    """``CommandError`` unless the database at ``url`` answers."""
    from sqlalchemy.exc import SQLAlchemyError

    from adapters.sqlalchemy import migrate

    try:
        migrate.current(url)
    except (OSError, TimeoutError, SQLAlchemyError) as error:
        raise _unreachable(url, error) from error


def _startup_line(host: str, port: int, url: str, embedded: bool, settings: Settings) -> str:
    where = f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"
    kind = " (embedded)" if embedded else ""
    database = "memory:// (nothing is kept)" if is_memory_url(url) else _safe_url(url)
    return (
        f"notes {_version()}: serving {where}, docs at {where}/docs; database "
        f"{database}{kind}; data directory {settings.data_dir}"
    )


def _db(args: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url is not None and is_memory_url(settings.database_url):
        print("notes db: the memory:// backend has no schema to migrate", file=sys.stderr)
        return 2
    from alembic.util import CommandError as AlembicError
    from sqlalchemy.exc import SQLAlchemyError

    from adapters.sqlalchemy import migrate

    _check_database_url(settings.database_url)
    with _database(settings) as (url, _):
        try:
            if args.action == "upgrade":
                migrate.upgrade(url, args.revision)
            elif args.action == "downgrade":
                migrate.downgrade(url, args.revision)
            elif args.action == "distribute":
                return _distribute(url)
            elif args.action == "sweep":
                print(asyncio.run(_sweep(settings.model_copy(update={"database_url": url}))))
                return 0
            revision = migrate.current(url)
        except AlembicError as error:
            raise CommandError(
                f"{error}; the revisions are in migrations/versions (head: {migrate.head()})"
            ) from error
        except (OSError, TimeoutError, SQLAlchemyError) as error:
            raise _unreachable(url, error) from error
        if args.action == "current":
            print(revision or "none (never migrated)")
        else:
            head = " (head)" if revision == migrate.head() else ""
            print(f"notes db: the database is at revision {revision or 'base'}{head}")
    return 0


def _distribute(url: str) -> int:
    from adapters.sqlalchemy.distribute import NotDistributable, distribute

    try:
        placed = distribute(url)
    except NotDistributable as refusal:
        print(f"notes db distribute: {refusal}", file=sys.stderr)
        return 2
    for line in placed:
        print(line)
    return 0


async def _sweep(settings: Settings) -> str:
    from dependency_injector import providers

    from entrypoints.container import Container, resolve, shutdown

    container = Container(settings=providers.Object(settings))
    try:
        swept = await (await resolve(container.sweep))()
    finally:
        await shutdown(container)
    return (
        f"swept {swept.login_failures} failed logins, {swept.refresh_tokens} refresh tokens, "
        f"{swept.idempotency_keys} idempotency keys, {swept.trashed_notes} trashed notes, "
        f"{swept.note_events} note events, {swept.personal_tokens} personal access tokens"
    )


def _openapi() -> int:
    from entrypoints.http import create_app

    print(json.dumps(create_app().openapi(), indent=2, ensure_ascii=False))
    return 0


def _settings() -> Settings | None:
    """The settings, or ``None`` after saying what is wrong with them. The values themselves
    are not echoed: a database URL may hold a password."""
    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            name = "NOTES_" + "_".join(str(part) for part in problem["loc"]).upper()
            print(f"notes: {name}: {problem['msg']}", file=sys.stderr)
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``notes`` command with ``argv`` (default: the process's arguments); the exit
    status: 0 on success, 1 for a failure explained in one line (a database that cannot be
    reached, a port in use, an unknown revision), 2 for a usage or configuration error."""
    args = _parser().parse_args(argv)
    if args.command == "openapi":
        return _openapi()
    settings = _settings()
    if settings is None:
        return 2
    try:
        if args.command == "serve":
            return _serve(args, settings)
        if args.action == "copy":
            return copy_command(args, settings)
        return _db(args, settings)
    except CommandError as error:
        print(f"notes {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
