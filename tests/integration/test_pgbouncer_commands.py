"""Every ``notes db`` command through a real PgBouncer, in each pool mode."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import URL, make_url

from adapters.sqlalchemy import migrate
from entrypoints.cli import main
from tests.databases import scratch_database_blocking
from tests.pgbouncer import running_pgbouncer


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_every_db_command_works_through_pgbouncer(
    mode: str,
    postgres_server_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with (
        scratch_database_blocking(postgres_server_url) as url,
        running_pgbouncer(make_url(url), mode) as pooled,
    ):
        monkeypatch.setenv("NOTES_DATABASE_URL", pooled.render_as_string(hide_password=False))
        monkeypatch.setenv(
            "NOTES_DATABASE_POOLER", "transaction" if mode == "transaction" else "none"
        )
        assert main(["db", "upgrade"]) == 0
        assert capsys.readouterr().out.strip().endswith(f"revision {migrate.head()} (head)")
        assert main(["db", "current"]) == 0
        assert capsys.readouterr().out.strip() == migrate.head()
        assert main(["db", "downgrade", "base"]) == 0
        assert main(["db", "upgrade"]) == 0
        assert migrate.current(url) == migrate.head()
