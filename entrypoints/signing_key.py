"""Where the key that signs access tokens comes from, and when the service refuses to start.

* ``NOTES_SECRET_KEY`` when set; it must be strong: at least 32 characters, not a
  placeholder from an example, and at least ``MIN_BITS`` bits of guessing work as zxcvbn
  estimates it (which sees repeats, sequences, keyboard walks and dictionary words).
* With the embedded database and no key set: one is generated on first start and kept in
  ``data_dir/secret_key`` (readable by its owner only), so restarts keep sessions valid.
* With ``memory://`` and no key set: a random key for this process (its notes and sessions
  end with it anyway).
* With an explicit database URL and no key: refuse to start. Sessions must survive restarts
  and be valid on every process, so the key has to be configured, not invented.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import tempfile
from pathlib import Path
from typing import Final

from zxcvbn import zxcvbn

from entrypoints.settings import Settings, is_memory_url

__all__ = ["MIN_BITS", "MIN_LENGTH", "WeakSecret", "signing_key"]

MIN_LENGTH: Final = 32
MIN_BITS: Final = 80
# zxcvbn's matching grows quickly with length; a prefix's estimate is a lower bound.
_ESTIMATED_PREFIX: Final = 100
_PLACEHOLDERS: Final = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "secret-key",
        "secret_key",
        "your-secret-key",
        "your_secret_key",
        "supersecret",
        "please-change-me",
        "insecure",
        "development",
    }
)
_FILE_NAME: Final = "secret_key"


class WeakSecret(ValueError):
    """The configuration does not give a usable signing key; the message says what to do."""


def signing_key(settings: Settings) -> str:
    """The key to sign access tokens with, per the rules above; ``WeakSecret`` if none fits."""
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value()
        _check(key)
        return key
    if settings.database_url is None:
        return _kept_key(settings.data_dir / _FILE_NAME)
    if is_memory_url(settings.database_url):
        return secrets.token_urlsafe(48)
    raise WeakSecret(
        "NOTES_SECRET_KEY is not set. With NOTES_DATABASE_URL set, the key that signs access "
        "tokens must be configured (the same for every process), for example: "
        'NOTES_SECRET_KEY="$(python3 -c "import secrets; print(secrets.token_urlsafe(48))")"'
    )


def _check(key: str) -> None:
    normalised = key.strip().lower()
    if normalised in _PLACEHOLDERS or any(p in normalised for p in ("changeme", "change-me")):
        raise WeakSecret("NOTES_SECRET_KEY is a placeholder; set a random key of its own.")
    if len(key) < MIN_LENGTH:
        raise WeakSecret(
            f"NOTES_SECRET_KEY is {len(key)} characters; use at least {MIN_LENGTH} random ones."
        )
    bits = zxcvbn(key[:_ESTIMATED_PREFIX])["guesses_log10"] * math.log2(10)
    if bits < MIN_BITS:
        raise WeakSecret(
            f"NOTES_SECRET_KEY is guessable (about {bits:.0f} bits; at least {MIN_BITS} are "
            "needed): use a random key, e.g. python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'."
        )


def _kept_key(path: Path) -> str:
    """The key stored at ``path``, generated and written there (mode 0600) on first use.

    The new key is written to a private temporary file and linked into place: the link is
    atomic and fails if the file exists, so processes starting at once all end up with the
    one key that got there first, and none ever reads a half-written file.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            os.unlink(draft)
    key = path.read_text().strip()
    _check(key)
    return key
