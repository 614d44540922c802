from __future__ import annotations

import time
from uuid import UUID

import pytest

from adapters.system import SystemClock, Uuid7Factory


def test_ids_are_version_7_rfc_9562_variant() -> None:
    new = Uuid7Factory().new_id()
    assert new.version == 7
    assert new.variant == "specified in RFC 4122"


def test_ids_made_later_sort_later_even_within_one_millisecond() -> None:
    factory = Uuid7Factory()
    ids = [factory.new_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_carry_the_time_they_were_made() -> None:
    before = time.time_ns() // 1_000_000
    new = Uuid7Factory().new_id()
    after = time.time_ns() // 1_000_000
    assert before <= new.int >> 80 <= after


def test_ids_stay_ordered_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    factory = Uuid7Factory()
    first = factory.new_id()
    monkeypatch.setattr(time, "time_ns", lambda: 0)
    assert factory.new_id() > first


def test_system_clock_is_utc() -> None:
    assert SystemClock().now().utcoffset() is not None
    assert SystemClock().now().utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_uuid_type() -> None:
    assert isinstance(Uuid7Factory().new_id(), UUID)
