"""The passwords attackers try first: zxcvbn's list of the 30,000 most frequent passwords
of leaked password corpora (of which about 11,600 are 8 characters or longer)."""

from __future__ import annotations

from functools import cached_property

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from domain import Password

__all__ = ["ZxcvbnCommonPasswords"]


class ZxcvbnCommonPasswords:
    """A password is common when, lower-cased, it is on the list."""

    @cached_property
    def _words(self) -> frozenset[str]:
        return frozenset(FREQUENCY_LISTS["passwords"])

    def is_common(self, password: Password) -> bool:
        return password.secret.lower() in self._words
