"""Full-text search over notes: one tokenizer, one query language, one meaning everywhere.

Text is split into *tokens*: after NFKC normalisation and lower-casing, the maximal runs of
letters and digits (in any script); everything else separates tokens. A note's searchable
tokens are its title's followed by its description's. Tokens longer than
``MAX_TOKEN_LENGTH`` are not searchable.

A query is a list of terms, all of which must hold:

* ``word``: the word occurs as a whole token. A "word" that is several tokens (``e-mail``)
  must occur as that sequence of tokens.
* ``"a quoted phrase"``: the tokens occur one right after the other.
* ``prefix*``: some token starts with ``prefix`` (the last token, for a multi-token word).
* ``-term``: the note must *not* match the term (any of the above).

Every backend answers from the same tokens. Databases index them *encoded* (``encode``):
a letter followed by the hexadecimal UTF-8 of the token, so that each database's own
text parser, whatever its locale, sees one plain ASCII word per token. Encoding keeps
prefixes: the encoding of a prefix is a prefix of the encoding of the word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from domain.errors import RuleViolation

__all__ = [
    "MAX_QUERY_LENGTH",
    "MAX_QUERY_TERMS",
    "MAX_TOKEN_LENGTH",
    "InvalidQuery",
    "SearchQuery",
    "Term",
    "encode",
    "parse_query",
    "relevance",
    "tokens",
]

MAX_TOKEN_LENGTH: Final = 200
MAX_QUERY_LENGTH: Final = 500
MAX_QUERY_TERMS: Final = 20
_TOKEN = re.compile(r"[^\W_]+")
_TERM = re.compile(r'(-?)(?:"([^"]*)"?|([^\s"]+))')
_ENCODED_PREFIX: Final = "x"

# Relevance weights of a match in the title and in the description: PostgreSQL's ts_rank
# defaults for the weights the title (A) and the description (D) are indexed with.
TITLE_WEIGHT: Final = 1.0
DESCRIPTION_WEIGHT: Final = 0.1


class InvalidQuery(RuleViolation):
    field = "q"


# Short texts (queries, titles) recur and are cached; longer ones are not, so the cache holds
# at most _CACHED_ENTRIES * _CACHED_TEXT_LENGTH characters however large the texts users send.
_CACHED_ENTRIES: Final = 4096
_CACHED_TEXT_LENGTH: Final = 256


def _split(text: str) -> tuple[str, ...]:
    normalised = unicodedata.normalize("NFKC", text).lower()
    return tuple(t for t in _TOKEN.findall(normalised) if len(t) <= MAX_TOKEN_LENGTH)


_cached_split = lru_cache(maxsize=_CACHED_ENTRIES)(_split)


def tokens(text: str) -> tuple[str, ...]:
    """The searchable tokens of ``text``, in order."""
    return _cached_split(text) if len(text) <= _CACHED_TEXT_LENGTH else _split(text)


def encode(token: str) -> str:
    """A token as the databases index it: ASCII letters and digits only."""
    return _ENCODED_PREFIX + token.encode().hex()


@dataclass(frozen=True, slots=True)
class Term:
    """One condition of a query: a sequence of tokens that must (or, ``negated``, must not)
    occur consecutively, the last one as a prefix when ``prefix``."""

    tokens: tuple[str, ...]
    prefix: bool = False
    negated: bool = False

    def matches(self, document: Sequence[str]) -> bool:
        """Whether the tokens occur in ``document`` as this term says (ignoring ``negated``)."""
        return self.count(document) > 0

    def count(self, document: Sequence[str]) -> int:
        """How many times the term occurs in ``document``."""
        width = len(self.tokens)
        *whole, last = self.tokens
        found = 0
        for start in range(len(document) - width + 1):
            if all(document[start + i] == token for i, token in enumerate(whole)):
                candidate = document[start + width - 1]
                if candidate == last or (self.prefix and candidate.startswith(last)):
                    found += 1
        return found


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed query: every term must hold. At least one term, at most
    ``MAX_QUERY_TERMS``."""

    terms: tuple[Term, ...]

    @property
    def positive(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if not term.negated)

    @property
    def negative(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if term.negated)

    def matches(self, title: Sequence[str], description: Sequence[str]) -> bool:
        """Whether a note with these title and description tokens matches."""
        document = (*title, *description)
        return all(term.matches(document) != term.negated for term in self.terms)


def parse_query(text: str) -> SearchQuery:
    """Parse the query language of the module docstring; ``InvalidQuery`` when the query
    is too long, has too many terms, or has no term with a searchable token in it."""
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidQuery(f"must be at most {MAX_QUERY_LENGTH} characters")
    terms: list[Term] = []
    for negation, phrase, word in _TERM.findall(text):
        raw = phrase if phrase else word
        prefix = not phrase and raw.endswith("*")
        found = tokens(raw.rstrip("*") if prefix else raw)
        if not found:
            continue
        # A trailing '*' applies only when it directly follows the last token.
        prefix = prefix and bool(_TOKEN.search(raw.rstrip("*")[-1:]))
        term = Term(found, prefix=prefix, negated=bool(negation))
        if term not in terms:
            terms.append(term)
    if not terms:
        raise InvalidQuery("has no word to search for")
    if len(terms) > MAX_QUERY_TERMS:
        raise InvalidQuery(f"may have at most {MAX_QUERY_TERMS} terms")
    return SearchQuery(tuple(terms))


def relevance(query: SearchQuery, title: Sequence[str], description: Sequence[str]) -> float:
    """How well a matching note answers ``query``: occurrences of the query's positive terms,
    a title occurrence weighing ``TITLE_WEIGHT`` and a description one
    ``DESCRIPTION_WEIGHT``. (PostgreSQL ranks with ``ts_rank`` over the same weights.)"""
    score = 0.0
    for term in query.positive:
        score += TITLE_WEIGHT * term.count(title) + DESCRIPTION_WEIGHT * term.count(description)
    return score
