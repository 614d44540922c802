"""The rule for tables that belong to a user, checked on what really reaches PostgreSQL.

A per-user table (``adapters.sqlalchemy.tables.owner_column``) has a primary key and
unique constraints that start with its owner column, and every statement on it constrains
that column by equality: each SELECT, UPDATE and DELETE in its WHERE (or a join's ON), each
INSERT by writing it. Then the service runs unchanged on a database sharded by owner.

``StatementLog`` records the statements the service's own connections send (those with its
``application_name``): SQLAlchemy's through its ``before_cursor_execute`` event, the ones the
unit of work sends to asyncpg directly through asyncpg's query logger; test harness
connections are not recorded. ``violations`` reads one statement, ``key_violations`` a
schema.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
import sqlglot
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool
from sqlglot import exp

from adapters.sqlalchemy import metadata
from adapters.sqlalchemy.tables import owner_column

__all__ = [
    "OWNERS",
    "SERVICE_STATEMENTS",
    "StatementLog",
    "key_violations",
    "kinds",
    "violations",
]

OWNERS: dict[str, str] = {
    table.name: owner
    for table in metadata.sorted_tables
    if (owner := owner_column(table)) is not None
}
"""Every per-user table and its owner column."""

_SERVICE = "notes-service"
# Transaction control and session settings touch no table; nor does asyncpg's lookup, once
# per connection, of a parameter's type it has not met yet (the arrays a bulk insert binds),
# which reads the system catalogue only.
_CONTROL = re.compile(
    r"^\s*(BEGIN|START|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|SHOW|RESET|DISCARD|SELECT\s+1\s*;?\s*$"
    r"|WITH\s+RECURSIVE\s+typeinfo_tree\()",
    re.IGNORECASE,
)


class StatementLog:
    """Every statement sent on the service's PostgreSQL connections while installed."""

    def __init__(self) -> None:
        self.statements: list[tuple[str | None, str]] = []
        """(database, statement) in the order sent."""
        self._service: weakref.WeakSet[Any] = weakref.WeakSet()
        self._installed = False
        self._paused: ContextVar[bool] = ContextVar("paused", default=False)

    def install(self) -> None:
        """Listen on every engine and pool of the process, from now on."""
        if self._installed:
            return
        event.listen(Pool, "connect", self._connected)
        event.listen(Engine, "before_cursor_execute", self._cursor_execute)
        self._installed = True

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Record nothing sent from inside the block (test harness work on the service's
        engine, such as emptying the tables between tests)."""
        token = self._paused.set(True)
        try:
            yield
        finally:
            self._paused.reset(token)

    def take(self, database: str | None = None) -> list[str]:
        """The statements recorded since the last ``take``; with ``database``, only those
        sent to that database (others may come from work still running elsewhere in the
        process)."""
        taken, self.statements = self.statements, []
        return [sql for sent_to, sql in taken if database is None or sent_to == database]

    def _connected(self, dbapi_connection: Any, _record: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        settings = getattr(driver, "get_settings", None)
        if settings is None or getattr(settings(), "application_name", None) != _SERVICE:
            return
        self._service.add(driver)
        driver.add_query_logger(self._logged)

    def _cursor_execute(
        self,
        connection: sa.Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if connection.dialect.name != "postgresql" or self._paused.get():
            return
        dbapi = connection.connection.dbapi_connection
        if getattr(dbapi, "driver_connection", None) in self._service:
            self.statements.append((connection.engine.url.database, statement))

    def _logged(self, record: Any) -> None:
        if not self._paused.get():
            self.statements.append((record.conn_params.database, record.query))


SERVICE_STATEMENTS = StatementLog()
"""The log the test session installs (``tests/conftest.py``)."""

_KINDS = {exp.Select: "select", exp.Insert: "insert", exp.Update: "update", exp.Delete: "delete"}


def kinds(sql: str) -> set[tuple[str, str]]:
    """(per-user table, what the statement does to it: select, lock, insert, update or
    delete) for every per-user table ``sql`` reaches."""
    if _CONTROL.match(sql):
        return set()
    found = set()
    for table in sqlglot.parse_one(sql, read="postgres").find_all(exp.Table):
        statement = table.find_ancestor(*_KINDS)
        if table.name not in OWNERS or statement is None:
            continue
        kind = _KINDS[type(statement)]
        if kind == "select" and statement.args.get("locks"):
            kind = "lock"
        found.add((table.name, kind))
    return found


def violations(sql: str) -> list[str]:
    """What in ``sql`` breaks the rule: one line per per-user table it reaches without
    constraining the owner column by equality. A statement that cannot be read is one."""
    if _CONTROL.match(sql):
        return []
    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except sqlglot.errors.ParseError as error:
        return [f"unreadable statement ({error.__class__.__name__}): {sql}"]
    if isinstance(tree, exp.Command):  # a statement sqlglot keeps as raw text
        named = {name for name in OWNERS if re.search(rf"\b{name}\b", sql, re.IGNORECASE)}
        return [f"{name}: a statement the rule cannot read: {sql}" for name in sorted(named)]
    found = []
    for table in tree.find_all(exp.Table):
        owner = OWNERS.get(table.name)
        if owner is None or table.find_ancestor(exp.Lock) is not None:
            continue  # ``FOR UPDATE OF notes`` names a table read elsewhere in the statement
        statement = table.find_ancestor(exp.Select, exp.Update, exp.Delete, exp.Insert)
        if statement is None:
            found.append(f"{table.name}: outside any statement the rule knows: {sql}")
        elif not _constrains(statement, table, owner):
            found.append(f"{table.name}: {owner} is not constrained by equality in: {sql}")
    return found


def _constrains(statement: exp.Expression, table: exp.Table, owner: str) -> bool:
    if isinstance(statement, exp.Insert):
        schema = statement.this
        if isinstance(schema, exp.Schema):
            return owner in {column.name for column in schema.expressions}
        return False  # INSERT without a column list: cannot tell
    alias = table.alias_or_name
    conditions: list[exp.Expression] = []
    where = statement.args.get("where")
    if where is not None:
        conditions.append(where.this)
    join = table.find_ancestor(exp.Join)
    if join is not None and join.args.get("on") is not None:
        conditions.append(join.args["on"])
    single = _single_table(statement)
    return any(
        _owner_equality(conjunct, alias, owner, single)
        for condition in conditions
        for conjunct in _conjuncts(condition)
    )


def _single_table(statement: exp.Expression) -> bool:
    own = [
        t for t in statement.find_all(exp.Table) if t.find_ancestor(type(statement)) is statement
    ]
    return len(own) == 1


def _conjuncts(condition: exp.Expression) -> Iterator[exp.Expression]:
    condition = condition.unnest()
    if isinstance(condition, exp.And):
        yield from _conjuncts(condition.this)
        yield from _conjuncts(condition.expression)
    else:
        yield condition


def _owner_equality(conjunct: exp.Expression, alias: str, owner: str, single_table: bool) -> bool:
    if not isinstance(conjunct, exp.EQ):
        return False
    for side, other in ((conjunct.this, conjunct.expression), (conjunct.expression, conjunct.this)):
        side = side.unnest()
        if not isinstance(side, exp.Column) or side.name != owner:
            continue
        if side.table != alias and not (single_table and not side.table):
            continue
        # ``owner_id = owner_id`` constrains nothing.
        if any(c.name == owner and c.table in (alias, "") for c in other.find_all(exp.Column)):
            continue
        return True
    return False


def key_violations(
    tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence[str]]]],
) -> list[str]:
    """For each per-user table as (name, primary key columns, unique column lists), what
    does not start with its owner column."""
    found = []
    for name, primary_key, uniques in tables:
        owner = OWNERS.get(name)
        if owner is None:
            continue
        for columns in (primary_key, *uniques):
            if not columns or columns[0] != owner:
                found.append(f"{name}: key {list(columns)} does not start with {owner}")
    return found
