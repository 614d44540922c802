"""``GET /metrics``: requests by route template and status, latencies, the pool's use and
database errors, in the Prometheus text format."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from application import StorageUnavailable
from entrypoints.http.metrics import FLUSH_AFTER, Metrics
from tests.api.client import app_over, serving, sign_in
from tests.api.locks import notes_locked, waiting_on_locks
from tests.api.test_failures import USER, failing_with


async def _scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, by name and labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _labels(**labels: str) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


async def test_requests_are_counted_and_timed_by_route_template_and_status() -> None:
    async with serving(app_over()) as client:
        await sign_in(client)
        created = (await client.post("/notes/", json={"title": "Groceries"})).json()
        for _ in range(3):
            await client.get(f"/notes/{created['id']}")
        await client.get(f"/notes/{created['id']}/")
        await client.get("/notes/0193f0c2-7a51-7c3e-9d0e-5b1f0c2a9e11")
        await client.get("/nowhere/at/all")
        samples = await _scrape(client)

    def requests(route: str, status: str) -> float:
        labels = _labels(method="GET", route=route, status=status)
        return samples[("notes_http_requests_total", labels)]

    assert requests("/notes/{note_id}", "200") == 4
    assert requests("/notes/{note_id}", "404") == 1
    assert requests("<unmatched>", "404") == 1
    created_labels = _labels(method="POST", route="/notes/", status="201")
    assert samples[("notes_http_requests_total", created_labels)] == 1
    timed = _labels(method="GET", route="/notes/{note_id}")
    assert samples[("notes_http_request_duration_seconds_count", timed)] == 5
    assert samples[("notes_http_request_duration_seconds_sum", timed)] > 0
    assert samples[("notes_http_request_duration_seconds_bucket", timed | {("le", "+Inf")})] == 5
    routes = {dict(labels).get("route") for _, labels in samples}
    assert not any(route and created["id"] in route for route in routes)
    assert ("notes_db_pool_checked_out_connections", frozenset()) in samples


async def test_counts_reach_the_metrics_within_the_flush_interval_without_a_scrape() -> None:
    """What another worker's scrape reads (multiprocess mode) is what each worker flushed:
    a request counts there at most ``FLUSH_AFTER`` seconds after it was answered."""
    metrics = Metrics()
    labels = {"method": "GET", "route": "/notes/", "status": "200"}

    def counted() -> float | None:
        return metrics.registry.get_sample_value("notes_http_requests_total", labels)

    metrics.observe("GET", "/notes/", 200, 0.01, None)
    metrics.observe("GET", "/notes/", 200, 0.02, None)
    assert counted() is None
    await asyncio.sleep(FLUSH_AFTER * 2)
    assert counted() == 2
    timed = {"method": "GET", "route": "/notes/"}
    assert metrics.registry.get_sample_value(
        "notes_http_request_duration_seconds_sum", timed
    ) == pytest.approx(0.03)


async def test_database_failures_are_counted_by_kind() -> None:
    app = app_over(failing_with(StorageUnavailable("down")))
    async with serving(app, as_user=USER) as client:
        for _ in range(2):
            assert (await client.get("/notes/")).status_code == 503
        samples = await _scrape(client)
    assert samples[("notes_db_errors_total", _labels(error="StorageUnavailable"))] == 2


async def test_the_pool_gauges_follow_connections_in_use(postgres_url: str) -> None:
    app = app_over(database_url=postgres_url, pool_size=1, max_overflow=2)
    async with serving(app) as client:
        await sign_in(client)
        idle = await _scrape(client)
        async with notes_locked(postgres_url) as lock:
            waiting = [
                asyncio.create_task(client.post("/notes/", json={"title": f"waits {number}"}))
                for number in range(3)
            ]
            await waiting_on_locks(postgres_url, 3)
            busy = await _scrape(client)
            await lock.rollback()
            assert [(await task).status_code for task in waiting] == [201] * 3
        after = await _scrape(client)
    checked_out = ("notes_db_pool_checked_out_connections", frozenset())
    overflow = ("notes_db_pool_overflow_connections", frozenset())
    assert (idle[checked_out], idle[overflow]) == (0, 0)
    assert (busy[checked_out], busy[overflow]) == (3, 2)
    assert after[checked_out] == 0
