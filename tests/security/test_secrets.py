"""Weak secrets are refused: the most common leaked passwords at registration, and a
signing key by its estimated guessing work rather than its length."""

from __future__ import annotations

import secrets

import httpx
import pytest

from entrypoints.signing_key import WeakSecret, signing_key
from tests.api.client import assert_problem, make_settings


@pytest.mark.parametrize("password", ["password", "12345678", "Password", "qwertyuiop", "iloveyou"])
async def test_the_most_common_passwords_are_refused(
    anonymous: httpx.AsyncClient, password: str
) -> None:
    answer = await anonymous.post("/users/", json={"username": "alice", "password": password})
    problem = assert_problem(answer, 422)
    assert problem["errors"] == [
        {"loc": ["body", "password"], "msg": "is one of the most common passwords; choose another"}
    ]
    accepted = await anonymous.post(
        "/users/", json={"username": "alice", "password": "correct horse battery"}
    )
    assert accepted.status_code == 201


@pytest.mark.parametrize(
    "key",
    [
        "abcdefgh" * 4,
        "0123456789abcdef0123456789abcdef",
        "passwordpasswordpasswordpassword",
        "qwertyuiopasdfghjklzxcvbnm123456",
        "correcthorsebatterystaplecorrecthorse",
    ],
)
def test_a_guessable_signing_key_is_refused_whatever_its_length(key: str) -> None:
    with pytest.raises(WeakSecret, match="guessable"):
        signing_key(make_settings(secret_key=key, database_url="sqlite:///x.db"))


def test_a_random_key_of_32_characters_is_accepted() -> None:
    for _ in range(20):
        key = secrets.token_urlsafe(24)
        assert signing_key(make_settings(secret_key=key, database_url="sqlite:///x.db")) == key
