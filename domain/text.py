"""Rules every text the domain keeps must follow, whatever field it is in."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["NOT_UNICODE", "is_unicode"]

# A lone surrogate (U+D800 to U+DFFF) can be decoded from JSON's \ud800 escapes but is not a
# character: it cannot be encoded as UTF-8, so no database, log or client could take it back.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
NOT_UNICODE: Final = "must be valid Unicode text (no lone surrogates such as \\ud800)"


def is_unicode(text: str) -> bool:
    """Whether ``text`` is a sequence of Unicode characters that UTF-8 can encode."""
    return _SURROGATE.search(text) is None
