"""``notes db distribute``: the plan that shards the schema on Citus, and its refusal on a
database without Citus (Citus itself cannot be installed where these tests run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.sqlalchemy import metadata
from adapters.sqlalchemy.distribute import Step, plan
from entrypoints.cli import main
from tests.owner_rule import OWNERS

pytestmark = pytest.mark.usefixtures("clean_environment")


def test_the_plan_places_reference_tables_first_and_shards_every_per_user_table_by_its_owner() -> (
    None
):
    steps = plan()
    references = [step for step in steps if step.column is None]
    assert {step.table for step in references} == {"users", "note_quota"}
    assert steps[: len(references)] == references
    assert Step("users") in references
    assert {step.table for step in steps} == {table.name for table in metadata.sorted_tables}
    assert {step.table: step.column for step in steps[len(references) :]} == OWNERS
    # A user's notes, tokens and idempotency keys share a shard; failed logins are keyed by
    # a username, a column of another type, so they form a group of their own.
    by_table = {step.table: step for step in steps}
    order = [step.table for step in steps]
    per_user = ["notes", "refresh_tokens", "idempotency_keys"]
    first = min(per_user, key=order.index)
    assert by_table[first].colocate_with is None
    assert all(by_table[name].colocate_with == first for name in per_user if name != first)
    assert by_table["login_failures"].colocate_with is None
    assert "create_distributed_table" in str(by_table["refresh_tokens"].sql)
    assert by_table["refresh_tokens"].sql.compile().params == {
        "table": "refresh_tokens",
        "column": "user_id",
        "group": first,
    }
    assert by_table["login_failures"].sql.compile().params["group"] == "none"
    assert "create_reference_table" in str(steps[0].sql)


def test_distribute_refuses_postgresql_without_citus_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], postgres_url: str
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", postgres_url)
    assert main(["db", "distribute"]) == 2
    output = capsys.readouterr()
    assert "no citus extension" in output.err
    assert "nothing was changed" in output.err
    assert output.out == ""


def test_distribute_refuses_sqlite(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("NOTES_DATABASE_URL", f"sqlite:///{tmp_path / 'notes.sqlite3'}")
    assert main(["db", "distribute"]) == 2
    assert "not sqlite" in capsys.readouterr().err
