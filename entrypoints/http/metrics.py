"""``GET /metrics``: the service's metrics in the Prometheus text format.

* ``notes_http_requests_total{method, route, status}``: answered requests, by route template
  (``/notes/{note_id}``, never a raw path, so the number of series stays bounded).
* ``notes_http_request_duration_seconds{method, route}``: a latency histogram.
* ``notes_db_pool_checked_out_connections``, ``notes_db_pool_overflow_connections``: the SQL
  connection pool's use, summed over live processes; sampled with every flush (below) and
  on every scrape, so it is exact whenever the pool is quiet.
* ``notes_db_errors_total{error}``: database failures answered to clients
  (``StorageUnavailable``: 503; ``Conflict``: 409).

Each app has its own registry, so apps in one process (tests) do not share counts. Under
``notes serve --workers N`` the workers are separate processes: ``notes serve`` sets
``PROMETHEUS_MULTIPROC_DIR`` to a fresh directory before they start, each writes its values
there (prometheus-client's multiprocess mode), and a scrape answered by any worker reports
the sum over all of them. A worker that died keeps its counts (they happened) but not its
pool gauges.

Requests are counted in batches: each answered request is appended to a list, which is
handed to the metrics (and the pool sampled) at most ``FLUSH_AFTER`` seconds later and before
every scrape. A scrape answered by one worker may so miss the last tenth of a second of the
others' requests, and a worker killed outright loses that much of its counts.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from application import NotAuthenticated
from entrypoints.http.dependencies import ContainerDep
from entrypoints.http.problems import documented
from entrypoints.http.routing import add_route

__all__ = ["MULTIPROCESS_DIR", "Metrics", "install"]

MULTIPROCESS_DIR: Final = "PROMETHEUS_MULTIPROC_DIR"
"""The variable that switches prometheus-client to multiprocess mode; read on its import."""

# From a fast in-memory read to the pool and connect timeouts.
_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LIVE_GAUGE_FILE: Final = re.compile(r"gauge_live\w*_(\d+)\.db")

FLUSH_AFTER: Final = 0.1
"""Seconds at most between a request's end and its count reaching the metrics."""
_MOST_PENDING: Final = 10_000
PoolUsage = Callable[[], tuple[int, int]]
"""Connections checked out of the pool, and connections opened beyond its size."""


class _Series:
    """The child of a labelled metric for one set of label values, looked up once: labelling
    takes a lock and builds a key on every call, and requests repeat a few combinations."""

    def __init__(self, requests: Counter, latency: Histogram) -> None:
        self._requests = requests
        self._latency = latency
        self._counters: dict[tuple[str, str, int], Counter] = {}
        self._histograms: dict[tuple[str, str], Histogram] = {}

    def count(self, method: str, route: str, status: int) -> None:
        key = (method, route, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self._requests.labels(method, route, str(status))
        counter.inc()

    def time(self, method: str, route: str, seconds: float) -> None:
        key = (method, route)
        histogram = self._histograms.get(key)
        if histogram is None:
            histogram = self._histograms[key] = self._latency.labels(method, route)
        histogram.observe(seconds)


class Metrics:
    """The metrics of one app, and their exposition."""

    def __init__(self) -> None:
        self.multiprocess_dir = os.environ.get(MULTIPROCESS_DIR) or None
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "notes_http_requests",
            "Requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "notes_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.pool_checked_out = Gauge(
            "notes_db_pool_checked_out_connections",
            "Database connections in use by requests.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.pool_overflow = Gauge(
            "notes_db_pool_overflow_connections",
            "Database connections open beyond the pool's size.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.database_errors = Counter(
            "notes_db_errors",
            "Database failures answered to clients, by kind.",
            ["error"],
            registry=self.registry,
        )
        self._series = _Series(self.requests, self.latency)
        self._pool_usage: PoolUsage | None = None
        self._pending: list[tuple[str, str, int, float]] = []
        self._flush_due: asyncio.TimerHandle | None = None

    def watch_pool(self, usage: PoolUsage | None) -> None:
        """Sample the pool's use with ``usage`` from now on (``None``: there is no pool);
        what was observed until now is flushed first."""
        self.flush()
        self._pool_usage = usage
        self._sample_pool()

    def observe(
        self, method: str, route: str, status: int, seconds: float, failure: Exception | None
    ) -> None:
        """Count one answered request. The count and time reach the metrics at the next
        ``flush``: at most ``FLUSH_AFTER`` seconds later (on the running event loop, or at
        once without one), and before every exposition."""
        pending = self._pending
        pending.append((method, route, status, seconds))
        if failure is not None:
            self.database_errors.labels(type(failure).__name__).inc()
        if self._flush_due is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._flush_due = loop.call_later(FLUSH_AFTER, self.flush)
        elif len(pending) >= _MOST_PENDING:
            self.flush()

    def flush(self) -> None:
        """Hand the requests observed since the last flush to the metrics, and sample the
        pool: the metrics' own updates take a lock each and cost several times a list
        append, so requests leave them to one pass over many."""
        if self._flush_due is not None:
            self._flush_due.cancel()
            self._flush_due = None
        pending, self._pending = self._pending, []
        series = self._series
        for method, route, status, seconds in pending:
            series.count(method, route, status)
            series.time(method, route, seconds)
        self._sample_pool()

    def _sample_pool(self) -> None:
        if self._pool_usage is None:
            return
        checked_out, overflow = self._pool_usage()
        self.pool_checked_out.set(checked_out)
        self.pool_overflow.set(overflow)

    def exposition(self) -> bytes:
        """Every metric in the Prometheus text format: this app's, or in multiprocess mode
        every process's."""
        self.flush()
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        _forget_dead_processes(Path(self.multiprocess_dir))
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(merged)


def _forget_dead_processes(directory: Path) -> None:
    """Drop the gauges of processes that are gone (a worker killed and replaced): a gauge
    says how things are now, and a dead process has no pool. Their counters stay."""
    for file in directory.glob("gauge_live*.db"):
        match = _LIVE_GAUGE_FILE.fullmatch(file.name)
        if match is None:
            continue
        pid = int(match.group(1))
        if not _is_alive(pid):
            multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def metrics(request: Request, container: ContainerDep) -> Response:
    """The service's metrics, in the Prometheus text format; with ``NOTES_METRICS_TOKEN``
    set, only for a request that carries it as its bearer token."""
    token = container.settings().metrics_token
    if token is not None:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.strip().encode(), token.get_secret_value().encode()
        ):
            raise NotAuthenticated("/metrics needs the metrics bearer token")
    collected: Metrics = container.metrics()
    return Response(collected.exposition(), media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI) -> None:
    """Add ``/metrics`` (and ``/metrics/``) to ``app``, reporting its container's metrics."""
    options: dict[str, Any] = {
        "methods": ["GET"],
        "tags": ["operations"],
        "summary": "Metrics",
        "response_class": PlainTextResponse,
        "responses": {
            # With NOTES_METRICS_TOKEN set, a scrape without it.
            **documented([NotAuthenticated]),
            200: {
                "description": "Request counts and latencies by route and status, database "
                "pool use and database errors, in the Prometheus text format.",
            },
        },
    }
    add_route(app, "/metrics", metrics, **options)
