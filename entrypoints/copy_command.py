"""``notes db copy SOURCE_URL TARGET_URL``: every record of one backend copied into another.

The target is migrated first; the source is only read, and must be at this version's
schema. A target that holds any user is refused unless ``--force``, which empties it
first, so that the end state is the source's whatever the target held (an earlier copy
cut short included). The copy goes through the ports (``application.copying``), so any
backend copies to any other, and is verified at the end: per table, the count and a
checksum on both sides; any difference is exit status 1. Progress shows on a terminal
(standard error); otherwise only the summary is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from typing import Any

from application import UnitOfWorkFactory
from application.copying import Copy, TableCheck
from application.errors import (
    ApplicationError,
    Conflict,
    OutcomeUnknown,
    QuotaExceeded,
    StorageUnavailable,
)
from entrypoints.settings import Settings, UnknownScheme, is_memory_url, normalised_database_url

__all__ = ["add_copy_parser", "copy_command"]

_PREFIX = "notes db copy"


class _Refused(Exception):
    """A failure explained in one line; ``status`` is the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def add_copy_parser(actions: Any) -> None:
    """``copy`` among the ``notes db`` actions."""
    copy = actions.add_parser(
        "copy",
        help="copy every user, note, revision, trashed note and session from one database "
        "to another, and verify the copy",
    )
    copy.add_argument("source", metavar="SOURCE_URL", help="the database to copy from")
    copy.add_argument("target", metavar="TARGET_URL", help="the database to copy into")
    copy.add_argument(
        "--force",
        action="store_true",
        help="empty a target that holds data first (everything in it is deleted)",
    )
    copy.add_argument(
        "--verify-only",
        action="store_true",
        help="copy nothing: compare the two databases table by table",
    )
    copy.add_argument(
        "--batch-size",
        type=_batch_size,
        default=1000,
        help="records read and written at a time (default: 1000)",
    )


def _batch_size(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 1 <= size <= 10_000:
        raise argparse.ArgumentTypeError("choose a batch size from 1 to 10000")
    return size


def copy_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``notes db copy``; the exit status (0: copied and verified)."""
    try:
        source = _url(args.source, "SOURCE_URL")
        target = _url(args.target, "TARGET_URL")
        if source == target and not is_memory_url(source):
            raise _Refused("the source and the target are the same database", 2)
        _prepare(source, target, migrate_target=not args.verify_only)
        return asyncio.run(_run(args, settings, source, target))
    except _Refused as refusal:
        print(f"{_PREFIX}: {refusal}", file=sys.stderr)
        return refusal.status
    except KeyboardInterrupt:
        print(
            f"{_PREFIX}: interrupted; the target is incomplete: run the copy again with --force",
            file=sys.stderr,
        )
        return 130


def _url(url: str, name: str) -> str:
    try:
        normalised = normalised_database_url(url)
    except UnknownScheme as error:
        raise _Refused(f"{name} {error}", 2) from None
    if normalised.startswith("sqlite"):
        _check_sqlite_folder(normalised, name)
    return normalised


def _check_sqlite_folder(url: str, name: str) -> None:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if database and database != ":memory:" and not Path(database).parent.is_dir():
        raise _Refused(
            f"{name}: the SQLite database {database} cannot be made: its folder "
            f"{Path(database).parent} does not exist (an absolute path takes four slashes: "
            "sqlite:////srv/notes.sqlite3)"
        )


def _safe(url: str) -> str:
    if is_memory_url(url):
        return url
    from adapters.sqlalchemy.urls import database_url

    return database_url(url).render_as_string(hide_password=True)


def _unreachable(url: str, error: BaseException) -> _Refused:
    from entrypoints.http.middleware import describe_failure

    return _Refused(
        f"cannot reach the database at {_safe(url)} ({describe_failure(error)}); check that "
        "it runs and accepts connections, and the URL"
    )


def _prepare(source: str, target: str, *, migrate_target: bool) -> None:
    """Check the source's schema is this version's, and migrate the target to it."""
    from alembic.util import CommandError as AlembicError
    from sqlalchemy.exc import SQLAlchemyError

    from adapters.sqlalchemy import migrate

    history = migrate.history()
    for url, side in ((source, "source"), (target, "target")):
        if is_memory_url(url):
            continue
        try:
            if side == "target" and migrate_target:
                migrate.upgrade(url)
            revision = migrate.current(url)
        except AlembicError as error:
            raise _Refused(f"the {side} database's schema cannot be migrated: {error}") from None
        except (OSError, TimeoutError, SQLAlchemyError) as error:
            raise _unreachable(url, error) from None
        if revision != history.head:
            state = "behind" if history.is_behind(revision) else "ahead of"
            raise _Refused(
                f"the {side} database's schema is at {revision or 'no revision'}, {state} this "
                f"version's {history.head}: run a `notes db upgrade` of the same version on it"
            )


@asynccontextmanager
async def _opened(url: str, settings: Settings) -> AsyncIterator[UnitOfWorkFactory]:
    if is_memory_url(url):
        from adapters.memory import MemoryDatabase

        yield MemoryDatabase().unit_of_work
        return
    from adapters.sqlalchemy import SqlDatabase, create_engine

    # Two connections: a server target takes two batches at once (``_writers``). No
    # statement timeout: emptying a target with --force deletes a whole owner's rows at once.
    engine = create_engine(
        url,
        pool_size=2,
        pool_timeout=max(settings.pool_timeout, 30.0),
        connect_timeout=settings.connect_timeout,
        statement_timeout=None,
        pooler=settings.database_pooler,
    )
    try:
        yield SqlDatabase(engine).unit_of_work
    finally:
        await engine.dispose()


async def _run(args: argparse.Namespace, settings: Settings, source: str, target: str) -> int:
    async with _opened(source, settings) as reading, _opened(target, settings) as writing:
        with _progress() as progress:
            copy = Copy(
                reading,
                writing,
                page_size=args.batch_size,
                batch_size=args.batch_size,
                writers=_writers(target),
                progress=progress.advance,
            )
            started = time.monotonic()
            try:
                copied = None if args.verify_only else await _copy(copy, args.force, target)
                copying = time.monotonic() - started
                progress.verifying()
                checks = await copy.verify()
            except Conflict as error:
                raise _Refused(
                    f"the target already holds a record the source has ({error}): something "
                    "else writes to it; stop that, then run the copy again with --force"
                ) from None
            except QuotaExceeded:
                raise _Refused(
                    "the target's notes quota refuses a user's notes: serve the target with "
                    "NOTES_QUOTA_NOTES and NOTES_QUOTA_BYTES at least the source's, then run "
                    "the copy again with --force"
                ) from None
            except (StorageUnavailable, OutcomeUnknown) as error:
                from entrypoints.http.middleware import describe_failure

                raise _Refused(
                    f"a database stopped answering ({describe_failure(error)}); the target is "
                    "incomplete: run the copy again with --force"
                ) from None
            except ApplicationError as error:
                raise _Refused(f"{type(error).__name__}: {error}") from None
            verifying = time.monotonic() - started - copying
    _summary(source, target, copied, checks, copying, verifying)
    differing = [check.name for check in checks if not check.matches]
    if differing:
        print(
            f"{_PREFIX}: the target differs from the source in {', '.join(differing)}",
            file=sys.stderr,
        )
        return 1
    return 0


def _writers(target: str) -> int:
    """How many batches the copy writes at once: two on a database server (one batch's
    statements run while the one before commits), one on SQLite, which writes one
    transaction at a time, and in memory."""
    return 1 if is_memory_url(target) or target.startswith("sqlite") else 2


async def _copy(copy: Copy, force: bool, target: str) -> dict[str, int]:
    if await copy.target_holds_data():
        if not force:
            raise _Refused(
                f"the target {_safe(target)} holds data; run with --force to delete "
                "everything in it first"
            )
        await copy.empty_target()
    return await copy.copy()


def _summary(
    source: str,
    target: str,
    copied: dict[str, int] | None,
    checks: list[TableCheck],
    copying: float,
    verifying: float,
) -> None:
    if copied is None:
        print(f"{_PREFIX}: compared {_safe(source)} and {_safe(target)} in {verifying:.1f} s")
    else:
        print(
            f"{_PREFIX}: copied {_safe(source)} -> {_safe(target)} in {copying:.1f} s, "
            f"verified in {verifying:.1f} s"
        )
    for check in checks:
        written = "" if copied is None else f"{copied.get(check.name, 0):>12,} copied"
        if check.matches:
            verdict = f"verified ({check.source.count:,}, {check.source.checksum[:16]})"
        else:
            verdict = (
                f"DIFFERS: source {check.source.count:,} ({check.source.checksum[:16]}), "
                f"target {check.target.count:,} ({check.target.checksum[:16]})"
            )
        print(f"  {check.name:<18}{written}  {verdict}")
    if copied is not None and copying > 0:
        notes = copied.get("notes", 0)
        print(f"  {notes:,} notes copied at {notes / copying:,.0f} notes/s")


class _Progress:
    """Progress bars on a terminal; nothing elsewhere."""

    def __init__(self, bars: Any | None) -> None:
        self._bars = bars
        self._tasks: dict[str, Any] = {}

    def advance(self, table: str, count: int) -> None:
        if self._bars is None:
            return
        if table not in self._tasks:
            self._tasks[table] = self._bars.add_task(table, total=None)
        self._bars.advance(self._tasks[table], count)

    def verifying(self) -> None:
        if self._bars is not None:
            self._bars.add_task("verifying (reading both sides)", total=None)


@contextmanager
def _progress() -> Iterator[_Progress]:
    if not sys.stderr.isatty():
        yield _Progress(None)
        return
    from rich.console import Console
    from rich.progress import (
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<32}"),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    bars: AbstractContextManager[Any] = Progress(*columns, console=Console(stderr=True))
    with bars as shown:
        yield _Progress(shown)
