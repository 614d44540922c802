"""Database URLs naming several PostgreSQL hosts, in both forms libpq knows, for the engine
and for every ``notes db`` command; ``target_session_attrs=read-write`` by default."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest
from sqlalchemy.engine import URL

from adapters.sqlalchemy import SqlDatabase, create_engine, migrate
from adapters.sqlalchemy.urls import database_url
from entrypoints.cli import main
from tests.databases import scratch_database_blocking
from tests.e2e.server import free_port
from tests.integration.tcp_proxy import proxy_in_thread


def test_hosts_listed_in_the_authority_become_the_query_form_the_driver_reads() -> None:
    parsed = database_url("postgresql+asyncpg://u:p@h1:5432,h2:5433/notes?ssl=prefer")
    assert parsed.query["host"] == ("h1:5432", "h2:5433")
    assert parsed.query["target_session_attrs"] == "read-write"
    assert (parsed.username, parsed.password, parsed.database) == ("u", "p", "notes")
    assert parsed.query["ssl"] == "prefer"


def test_hosts_and_ports_given_apart_in_the_query_are_paired() -> None:
    parsed = database_url("postgresql+asyncpg://u@/notes?host=h1&host=h2&port=1&port=2")
    assert parsed.query["host"] == ("h1:1", "h2:2")
    assert "port" not in parsed.query
    assert parsed.query["target_session_attrs"] == "read-write"


@pytest.mark.parametrize(
    "url",
    ["postgresql+asyncpg://u@h1:5432/notes", "sqlite+aiosqlite:///notes.sqlite3"],
)
def test_one_host_is_left_as_it_is(url: str) -> None:
    assert "target_session_attrs" not in database_url(url).query


def test_a_target_the_url_names_is_kept() -> None:
    parsed = database_url("postgresql+asyncpg://u@h1:1,h2:2/notes?target_session_attrs=any")
    assert parsed.query["target_session_attrs"] == "any"


@pytest.mark.parametrize("scheme", ["mysql", "mariadb", "mysql+asyncmy", "mariadb+asyncmy"])
def test_mysql_and_mariadb_get_asyncmy_and_every_character(scheme: str) -> None:
    parsed = database_url(f"{scheme}://u:p@db:3306/notes")
    assert parsed.drivername == "mysql+asyncmy"
    assert parsed.query["charset"] == "utf8mb4"
    assert database_url("mysql://u@db/notes?charset=utf8").query["charset"] == "utf8"


def _both_forms(url: str) -> list[str]:
    """``url`` with a host where nothing listens before its own, in each form."""
    real = database_url(url)
    dead = f"127.0.0.1:{free_port()}"
    live = f"{real.host}:{real.port or 5432}"
    user = real.username if real.password is None else f"{real.username}:{real.password}"
    return [
        f"postgresql+asyncpg://{user}@{dead},{live}/{real.database}",
        f"postgresql://{user}@/{real.database}?host={dead}&host={live}",
    ]


@pytest.fixture
def tcp_url(postgres_url: str) -> Iterator[str]:
    """The session's database at a TCP address (through a proxy if the server listens on a
    socket only)."""
    with proxy_in_thread(postgres_url) as proxy:
        yield proxy.url


@pytest.fixture
def empty_database(postgres_server_url: URL) -> Iterator[str]:
    with (
        scratch_database_blocking(postgres_server_url) as url,
        proxy_in_thread(url) as proxy,
    ):
        yield proxy.url


def test_every_db_command_takes_either_form(
    empty_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for url in _both_forms(empty_database):
        monkeypatch.setenv("NOTES_DATABASE_URL", url)
        assert main(["db", "upgrade"]) == 0
        assert capsys.readouterr().out.strip().endswith(f"revision {migrate.head()} (head)")
        assert main(["db", "current"]) == 0
        assert capsys.readouterr().out.strip() == migrate.head()
        assert main(["db", "downgrade", "base"]) == 0
        capsys.readouterr()
        assert main(["db", "current"]) == 0
        assert capsys.readouterr().out.startswith("none")


async def test_the_engine_reaches_the_server_through_either_form(tcp_url: str) -> None:
    for url in _both_forms(tcp_url):
        engine = create_engine(url, connect_timeout=1.0)
        try:
            async with SqlDatabase(engine).unit_of_work() as uow:
                assert await uow.notes.list(uuid4(), limit=1) == []
        finally:
            await engine.dispose()
