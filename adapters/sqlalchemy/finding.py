"""The SQL of ``NoteRepository.find``: filters, orders and keyset conditions, per database.

Both databases search the encoded tokens of ``domain.search``. PostgreSQL matches them with a
``tsquery`` against the ``search_vector`` it maintains (GIN-indexed) and ranks with
``ts_rank``. SQLite matches the same tokens with ``LIKE`` over the space-padded token
columns (the exact same semantics, without an index) and ranks with
``domain.search.relevance``, registered as the SQL function ``notes_relevance``.

MySQL narrows with a FULLTEXT index and decides with SQLite's ``LIKE`` conditions. InnoDB's
FULLTEXT parser would break the promise of whole words by itself: it skips stopwords and
tokens shorter than ``innodb_ft_min_token_size`` (3) or longer than
``innodb_ft_max_token_size`` (84). Encoded tokens are at least 3 characters and never an
(English) stopword, and the index is built with stopwords off (migration 0002); it covers
``search_words``, a stored generated column holding the searchable tokens each cut to 84
characters (``MYSQL_WORDS_SQL``), so every token is indexed. ``MATCH … AGAINST`` in boolean
mode then asks for every token of every positive term, cut the same way (the last token of
a prefix term as a prefix): a superset of the matching notes, found through the index; the
``LIKE`` conditions keep exactly the matching ones. Relevance is ``domain.search.relevance``
computed in SQL: each term's occurrences counted by ``REPLACE`` over the tokens with their
separators doubled, so that adjacent occurrences are each counted (a phrase that overlaps
itself, ``"a a"`` in ``a a a``, counts once per non-overlapping occurrence).

On PostgreSQL the statement depends only on the *shape* of a request (its order, whether
it filters by tags, searches, continues after a position or skips), never on its values:
``shaped_statement`` builds each shape once, with named bind parameters, and
``shaped_parameters`` gives a request's values for them. Building and hashing a new
``Select`` per request cost more than running it; a shaped statement is compiled once and
its SQL sent to the driver as is (``SqlUnitOfWork.fetch_all``). SQLite's statement depends
on the search's terms (one ``LIKE`` per term), so it is built per request
(``find_statement``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Final, NamedTuple, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from adapters.sqlalchemy.tables import notes, shared_notes
from application import NoteFilter, Order, Position
from domain.search import SearchQuery, Term, encode, relevance

__all__ = [
    "MYSQL_WORDS",
    "MYSQL_WORDS_INDEX",
    "MYSQL_WORDS_SQL",
    "RELEVANCE_FUNCTION",
    "Shape",
    "conditions",
    "find_statement",
    "ordering",
    "score",
    "shape_of",
    "shaped_parameters",
    "shaped_statement",
    "source",
    "sqlite_relevance",
]

RELEVANCE_FUNCTION: Final = "notes_relevance"
MYSQL_WORDS: Final = "search_words"
"""MySQL: the generated column the FULLTEXT index ``MYSQL_WORDS_INDEX`` covers."""
MYSQL_WORDS_INDEX: Final = "ix_notes_search_words"
_FULLTEXT_TOKEN: Final = 84  # innodb_ft_max_token_size's default
MYSQL_WORDS_SQL: Final = (
    "regexp_replace(concat(search_title, ' ', search_body), "
    f"'(?<=x[0-9a-f]{{{_FULLTEXT_TOKEN - 1}}})[0-9a-f]+', '')"
)
"""MySQL: ``search_words`` from the searchable tokens, each cut to its first 84 characters
(an encoded token is ``x`` and hexadecimal digits)."""
_VECTOR = sa.literal_column("notes.search_vector", type_=postgresql.TSVECTOR())


def _tsquery_text(query: SearchQuery) -> str:
    """``query`` in PostgreSQL's ``to_tsquery`` syntax. Encoded tokens are plain letters and
    digits, so nothing needs quoting."""

    def term(t: Term) -> str:
        words = [encode(token) for token in t.tokens]
        if t.prefix:
            words[-1] += ":*"
        text = " <-> ".join(words)
        return f"!({text})" if t.negated else f"({text})"

    return " & ".join(term(t) for t in query.terms)


def _tsquery(query: SearchQuery) -> sa.ColumnElement[Any]:
    return sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), _tsquery_text(query))


def _padded() -> sa.ColumnElement[str]:
    return " " + notes.c.search_title + " " + notes.c.search_body + " "


def _like(term: Term) -> sa.ColumnElement[bool]:
    pattern = "% " + " ".join(encode(token) for token in term.tokens)
    pattern += "%" if term.prefix else " %"
    matched = _padded().like(pattern)
    return sa.not_(matched) if term.negated else matched


def _fulltext_query(query: SearchQuery) -> str | None:
    """The boolean-mode ``AGAINST`` text that narrows ``query`` on MySQL: every token of every
    positive term required, cut as ``search_words`` cuts them; ``None`` when the query has no
    positive term (then nothing narrows it)."""
    words: list[str] = []
    for term in query.positive:
        *whole, last = (encode(token)[:_FULLTEXT_TOKEN] for token in term.tokens)
        words.extend(f"+{word}" for word in whole)
        words.append(f"+{last}*" if term.prefix else f"+{last}")
    return " ".join(dict.fromkeys(words)) or None


def _mysql_count(column: sa.ColumnElement[str], term: Term) -> sa.ColumnElement[int]:
    """How many times ``term`` occurs in the encoded tokens of ``column`` (MySQL)."""
    doubled = sa.func.replace(sa.func.concat(" ", column, " "), " ", "  ")
    pattern = " " + "  ".join(encode(token) for token in term.tokens)
    if not term.prefix:
        pattern += " "
    removed = sa.func.char_length(sa.func.replace(doubled, pattern, ""))
    return (sa.func.char_length(doubled) - removed).self_group().op("DIV")(len(pattern))


def _mysql_relevance(query: SearchQuery) -> sa.ColumnElement[float]:
    """``domain.search.relevance`` in MySQL's SQL, as a double."""
    title = sa.literal_column("1.0e0", sa.Float())
    body = sa.literal_column("1.0e-1", sa.Float())
    score: sa.ColumnElement[float] = sa.literal_column("0.0e0", sa.Float())
    for term in query.positive:
        score = (
            score
            + title * _mysql_count(notes.c.search_title, term)
            + body * _mysql_count(notes.c.search_body, term)
        )
    return score


def _encoded_query(query: SearchQuery) -> str:
    return json.dumps(
        [[[encode(t) for t in term.tokens], term.prefix, term.negated] for term in query.terms]
    )


@lru_cache(maxsize=256)
def _decoded_query(text: str) -> SearchQuery:
    return SearchQuery(
        tuple(Term(tuple(tokens), prefix, negated) for tokens, prefix, negated in json.loads(text))
    )


def sqlite_relevance(search_title: str, search_body: str, query: str) -> float:
    """``domain.search.relevance`` over encoded tokens (counts are the same: encoding is
    one-to-one and keeps prefixes), as SQLite calls it."""
    return relevance(_decoded_query(query), search_title.split(), search_body.split())


def _whose(owner_id: Any, shared: bool) -> sa.ColumnElement[bool]:
    """The owner's notes; with ``shared``, the notes shared with ``owner_id`` (the grantee)
    through the grantee's index, joined by ``source``."""
    column = shared_notes.c.grantee_id if shared else notes.c.owner_id
    clause: sa.ColumnElement[bool] = column == owner_id
    return clause


def source(shared: bool) -> sa.FromClause:
    """What a listing reads: the notes table, or the grantee's index joined to the notes
    by the owner's key (one primary-key lookup per row)."""
    if not shared:
        return notes
    return shared_notes.join(
        notes,
        sa.and_(notes.c.owner_id == shared_notes.c.owner_id, notes.c.id == shared_notes.c.note_id),
    )


def conditions(
    owner_id: Any,
    where: NoteFilter,
    dialect: str,
    *,
    shared: bool = False,
    indexed: bool = True,
) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses selecting the owner's notes (or, with ``shared``, the notes shared
    with ``owner_id``) that pass ``where``. On MySQL, with ``indexed`` false, a search is not
    narrowed by the FULLTEXT index, which shows only what was committed (InnoDB updates it at
    commit): for a transaction that wrote notes."""
    clauses: list[sa.ColumnElement[bool]] = [_whose(owner_id, shared)]
    if where.tags:
        if dialect == "postgresql":
            wanted = sa.bindparam(None, list(where.tags), type_=postgresql.ARRAY(sa.Text()))
            clauses.append(
                sa.type_coerce(notes.c.tags, postgresql.ARRAY(sa.Text())).contains(wanted)
            )
        elif dialect == "mysql":
            wanted_json = json.dumps(list(where.tags))
            clauses.append(sa.func.json_contains(notes.c.tags, wanted_json) == 1)
        else:
            each = sa.func.json_each(notes.c.tags).table_valued("value")
            for tag in where.tags:
                clauses.append(sa.exists(sa.select(1).select_from(each).where(each.c.value == tag)))
    if where.search is not None:
        if dialect == "postgresql":
            clauses.append(_VECTOR.op("@@")(_tsquery(where.search)))
        else:
            if dialect == "mysql":
                against = _fulltext_query(where.search)
                if against is not None and indexed:
                    words = sa.literal_column(f"notes.{MYSQL_WORDS}", sa.Text())
                    clauses.append(mysql.match(words, against=against).in_boolean_mode())
            clauses.extend(_like(term) for term in where.search.terms)
    return clauses


def score(where: NoteFilter, dialect: str) -> sa.ColumnElement[float]:
    """The relevance of a note to the filter's search (0 without one)."""
    if where.search is None:
        return sa.literal(0.0, sa.Float())
    if dialect == "postgresql":
        return sa.func.ts_rank(_VECTOR, _tsquery(where.search), type_=sa.Float())
    if dialect == "mysql":
        return _mysql_relevance(where.search)
    return sa.func.notes_relevance(
        notes.c.search_title, notes.c.search_body, _encoded_query(where.search), type_=sa.Float()
    )


class _Keyset(Protocol):
    """Where a page ends: a ``Position``'s values, or bind parameters standing for them."""

    @property
    def moment(self) -> Any: ...

    @property
    def id(self) -> Any: ...

    @property
    def score(self) -> Any: ...


class _BoundKeyset(NamedTuple):
    moment: sa.BindParameter[Any]
    id: sa.BindParameter[Any]
    score: sa.BindParameter[Any]


_Keys = tuple[sa.ColumnElement[Any], sa.ColumnElement[Any], sa.ColumnElement[Any]]


def ordering(
    order: Order,
    rank: sa.ColumnElement[float],
    after: _Keyset | None,
    *,
    shared: bool = False,
    keys_of: _Keys | None = None,
) -> tuple[list[sa.ColumnElement[Any]], sa.ColumnElement[bool] | None]:
    """The ORDER BY of ``order``, and the keyset condition for the notes after ``after``,
    over the notes' (created, updated, id) columns or ``keys_of``. With ``shared``, the
    creation orders use the grantee's index's copy of the keys, which its index serves."""
    created, updated, ident = keys_of or (notes.c.created_date, notes.c.updated_date, notes.c.id)
    if shared and order in ("created_desc", "created_asc"):
        created, ident = shared_notes.c.note_created_date, shared_notes.c.note_id
    if order == "created_asc":
        keys: list[sa.ColumnElement[Any]] = [created.asc(), ident.asc()]
        cut = (
            None if after is None else sa.tuple_(created, ident) > sa.tuple_(after.moment, after.id)
        )
    elif order == "updated_desc":
        keys = [updated.desc(), ident.desc()]
        cut = (
            None if after is None else sa.tuple_(updated, ident) < sa.tuple_(after.moment, after.id)
        )
    elif order == "relevance":
        keys = [rank.desc(), created.desc(), ident.desc()]
        cut = (
            None
            if after is None
            else sa.or_(
                rank < after.score,
                sa.and_(
                    rank == after.score,
                    sa.tuple_(created, ident) < sa.tuple_(after.moment, after.id),
                ),
            )
        )
    else:
        keys = [created.desc(), ident.desc()]
        cut = (
            None if after is None else sa.tuple_(created, ident) < sa.tuple_(after.moment, after.id)
        )
    return keys, cut


def find_statement(
    columns: Sequence[sa.ColumnElement[Any]],
    owner_id: Any,
    where: NoteFilter,
    order: Order,
    *,
    limit: int,
    after: Position | None,
    skip: int,
    dialect: str,
    indexed: bool = True,
    shared: bool = False,
) -> sa.Select[Any]:
    """The whole query of ``NoteRepository.find`` (``find_shared`` with ``shared``):
    ``columns`` and the ``score``, with the values of this request bound in it. On
    PostgreSQL it is the shaped statement with these values, exactly the SQL the
    repository runs."""
    if dialect == "postgresql":
        return shaped_statement(
            tuple(columns), shape_of(where, order, after, skip, shared=shared)
        ).params(shaped_parameters(owner_id, where, limit=limit, after=after, skip=skip))
    rank = score(where, dialect)
    keys, cut = ordering(order, rank, after, shared=shared)
    clauses = conditions(owner_id, where, dialect, shared=shared, indexed=indexed)
    if cut is not None:
        clauses.append(cut)
    return (
        sa.select(*columns, rank.label("score"))
        .select_from(source(shared))
        .where(*clauses)
        .order_by(*keys)
        .limit(limit)
        .offset(skip)
    )


class Shape(NamedTuple):
    """What a PostgreSQL ``find`` statement depends on; the values are parameters."""

    order: Order
    tags: bool
    search: bool
    after: bool
    skip: bool
    shared: bool = False


def shape_of(
    where: NoteFilter, order: Order, after: Position | None, skip: int, *, shared: bool = False
) -> Shape:
    return Shape(
        order, bool(where.tags), where.search is not None, after is not None, skip > 0, shared
    )


def _named(name: str, type_: sa.types.TypeEngine[Any]) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=type_)


@lru_cache(maxsize=128)
def shaped_statement(columns: tuple[sa.ColumnElement[Any], ...], shape: Shape) -> sa.Select[Any]:
    """The PostgreSQL ``find`` statement of ``shape``, built once, with the bind parameters
    ``shaped_parameters`` names: the same SQL ``find_statement`` builds per request."""
    clauses: list[sa.ColumnElement[bool]] = [_whose(_named("owner_id", sa.Uuid()), shape.shared)]
    if shape.tags:
        wanted = _named("tags", postgresql.ARRAY(sa.Text()))
        clauses.append(sa.type_coerce(notes.c.tags, postgresql.ARRAY(sa.Text())).contains(wanted))
    rank: sa.ColumnElement[float]
    if shape.search:
        query = sa.func.to_tsquery(
            sa.literal_column("'simple'::regconfig"), _named("tsquery", sa.String())
        )
        clauses.append(_VECTOR.op("@@")(query))
        rank = sa.func.ts_rank(_VECTOR, query, type_=sa.Float())
    else:
        rank = sa.literal_column("0.0::float8", sa.Float())
    after = (
        _BoundKeyset(
            _named("after_moment", notes.c.created_date.type),
            _named("after_id", sa.Uuid()),
            _named("after_score", sa.Float()),
        )
        if shape.after
        else None
    )
    if shape.shared and not (shape.tags or shape.search):
        return _shared_statement(columns, shape, clauses[1:], rank, after)
    # Filtered, the grantee's notes are joined: the planner may then start from the tags'
    # or the search's index, where walking the grantee's index would visit every entry.
    keys, cut = ordering(shape.order, rank, after, shared=shape.shared)
    if cut is not None:
        clauses.append(cut)
    statement = (
        sa.select(*columns, rank.label("score"))
        .select_from(source(shape.shared))
        .where(*clauses)
        .order_by(*keys)
        .limit(_named("limit", sa.Integer()))
    )
    return statement.offset(_named("skip", sa.Integer())) if shape.skip else statement


def _shared_statement(
    columns: tuple[sa.ColumnElement[Any], ...],
    shape: Shape,
    filters: list[sa.ColumnElement[bool]],
    rank: sa.ColumnElement[float],
    after: _Keyset | None,
) -> sa.Select[Any]:
    """The grantee's unfiltered listing on PostgreSQL: the grantee's index in order, each
    entry's note looked up by its owner's primary key in a LATERAL subquery (which
    ``OFFSET 0`` keeps from being flattened into a join the planner might hash), until the
    page is full: a page costs what a page of the owner's own listing does, however many
    notes are shared."""
    found = (
        sa.select(*columns, rank.label("score"))
        .where(
            notes.c.owner_id == shared_notes.c.owner_id,
            notes.c.id == shared_notes.c.note_id,
            *filters,
        )
        .offset(sa.literal_column("0", sa.Integer()))
        .lateral("found")
    )
    keys, cut = ordering(
        shape.order,
        found.c.score,
        after,
        shared=True,
        keys_of=(found.c.created_date, found.c.updated_date, found.c.id),
    )
    clauses = [shared_notes.c.grantee_id == _named("owner_id", sa.Uuid())]
    if cut is not None:
        clauses.append(cut)
    return (
        sa.select(*(found.c[str(column.key)] for column in columns), found.c.score)
        .select_from(shared_notes.join(found, sa.true()))
        .where(*clauses)
        .order_by(*keys)
        .limit(_named("limit", sa.Integer()))
    )


def shaped_parameters(
    owner_id: Any, where: NoteFilter, *, limit: int, after: Position | None, skip: int
) -> dict[str, Any]:
    """The values of one request for its ``shaped_statement``, by parameter name."""
    values: dict[str, Any] = {"owner_id": owner_id, "limit": limit}
    if where.tags:
        values["tags"] = list(where.tags)
    if where.search is not None:
        values["tsquery"] = _tsquery_text(where.search)
    if after is not None:
        values["after_moment"] = after.moment
        values["after_id"] = after.id
        values["after_score"] = after.score
    if skip > 0:
        values["skip"] = skip
    return values
