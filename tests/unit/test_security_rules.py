"""The security rules of the core, on the in-memory adapter: throttling counts an attempt
before its password is checked, per username and client address; impossible usernames are
counted; addresses are limited in bounded memory; text must be Unicode; quotas hold."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.memory import MemoryDatabase
from adapters.security import Argon2PasswordHasher, JwtAccessTokens, ZxcvbnCommonPasswords
from adapters.system import Uuid7Factory
from application import (
    InvalidCredentials,
    NoteDraft,
    Notes,
    QuotaExceeded,
    TooManyAttempts,
)
from application.accounts import Accounts, LoginPolicy, login_key
from application.quota import Quota
from application.throttle import AddressLimiter
from domain import Description, InvalidPassword, Password, RuleViolation, Title
from tests.support import START, ManualClock, fast_password_hasher

WRONG = "wrong password"


class CountingHasher(Argon2PasswordHasher):
    """Real Argon2id at test parameters, counting the passwords it checks."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost_kib=8, parallelism=1)
        self.checked = 0

    async def verify(self, password_hash: str, password: Password) -> bool:
        self.checked += 1
        return await super().verify(password_hash, password)

    async def verify_nothing(self, password: Password) -> None:
        self.checked += 1
        await super().verify_nothing(password)


def _accounts(
    database: MemoryDatabase, hasher: Argon2PasswordHasher, clock: ManualClock
) -> Accounts:
    return Accounts(
        database.unit_of_work,
        clock,
        Uuid7Factory(),
        hasher,
        JwtAccessTokens("a-test-signing-secret-of-sufficient-length"),
        LoginPolicy(max_failures=5, max_failures_per_username=8),
        ZxcvbnCommonPasswords(),
    )


async def _outcome(accounts: Accounts, password: str, client: str) -> str:
    try:
        await accounts.log_in("alice", password, client=client)
    except InvalidCredentials:
        return "401"
    except TooManyAttempts:
        return "429"
    return "200"


async def test_a_burst_over_two_processes_gets_at_most_the_limits_checked() -> None:
    database, clock, hasher = MemoryDatabase(), ManualClock(), CountingHasher()
    # Two processes: each its own use cases (and address limits) over one database.
    first, second = _accounts(database, hasher, clock), _accounts(database, hasher, clock)
    await first.register("alice", "correct horse")
    hasher.checked = 0
    outcomes = await asyncio.gather(
        *(
            _outcome(accounts, WRONG, client)
            for accounts in (first, second)
            for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3")
            for _ in range(10)
        ),
        _outcome(second, "correct horse", "10.0.0.1"),
    )
    assert hasher.checked <= 8
    assert outcomes.count("401") <= 8
    assert outcomes[-1] == "429", "the correct password got through after the limit"


async def test_one_address_cannot_lock_out_the_others() -> None:
    database, clock = MemoryDatabase(), ManualClock()
    accounts = _accounts(database, fast_password_hasher(), clock)
    await accounts.register("alice", "correct horse")
    outcomes = [await _outcome(accounts, WRONG, "203.0.113.66") for _ in range(7)]
    assert outcomes == ["401"] * 5 + ["429"] * 2
    assert await _outcome(accounts, "correct horse", "198.51.100.7") == "200"


@pytest.mark.parametrize("name", ["x" * 51, "nul\x00name", "\ud800", "a b"])
def test_impossible_usernames_are_counted_under_a_key_no_username_has(name: str) -> None:
    key = login_key(name)
    assert key.startswith("~")
    assert len(key) <= 50
    assert login_key(name) == key
    assert login_key("Alice") == "alice"


def test_the_address_limiter_forgets_old_events_and_holds_a_bounded_number_of_addresses() -> None:
    limiter = AddressLimiter(2, timedelta(minutes=15), max_addresses=3)
    limiter.count("a", START)
    limiter.count("a", START + timedelta(minutes=1))
    with pytest.raises(TooManyAttempts) as caught:
        limiter.check("a", START + timedelta(minutes=2))
    assert caught.value.retry_after == 13 * 60
    limiter.check("a", START + timedelta(minutes=15, seconds=1))
    for address in ("b", "c", "d"):
        limiter.count(address, START)
        limiter.count(address, START)
    limiter.check("a", START + timedelta(minutes=2))  # forgotten: the least recently seen
    limiter.check("", START)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Title("x\ud800"),
        lambda: Description("\udfff tail"),
        lambda: Password("pass\ud800word"),
    ],
)
def test_text_that_is_not_unicode_is_refused(make: object) -> None:
    with pytest.raises(RuleViolation, match="valid Unicode"):
        make()  # type: ignore[operator]


async def test_common_passwords_are_refused_at_registration() -> None:
    accounts = _accounts(MemoryDatabase(), fast_password_hasher(), ManualClock())
    with pytest.raises(InvalidPassword, match="most common"):
        await accounts.register("alice", "Password1")
    await accounts.register("alice", "correct horse")


async def test_the_quota_holds_for_racing_creates_and_imports() -> None:
    database = MemoryDatabase(quota=Quota(max_notes=3, max_bytes=100))
    notes = Notes(database.unit_of_work, ManualClock(), Uuid7Factory())
    owner = Uuid7Factory().new_id()
    results = await asyncio.gather(
        *(notes.create_note(owner, NoteDraft(title=f"n{n}")) for n in range(10)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 3
    assert all(isinstance(r, QuotaExceeded) for r in results if isinstance(r, BaseException))
    other = Uuid7Factory().new_id()
    with pytest.raises(QuotaExceeded, match="stored bytes"):
        await notes.import_notes(other, [NoteDraft(title="t", description="é" * 50)])
    assert await notes.list_notes(other) == []


async def test_a_victims_login_does_not_give_a_guesser_a_fresh_allowance() -> None:
    accounts = _accounts(MemoryDatabase(), fast_password_hasher(), ManualClock())
    await accounts.register("alice", "correct horse")
    assert [await _outcome(accounts, WRONG, "203.0.113.66") for _ in range(4)] == ["401"] * 4
    assert await _outcome(accounts, "correct horse", "198.51.100.7") == "200"
    assert [await _outcome(accounts, WRONG, "203.0.113.66") for _ in range(2)] == ["401", "429"]
