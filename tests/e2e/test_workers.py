"""``notes serve --workers 2``: two processes serve one port and share the one embedded
PostgreSQL the supervisor started; ``/metrics`` from either reports both; killing one loses
none of the other's requests, and the supervisor replaces the dead one.

Which worker serves a request is the kernel's choice; the test finds out which process holds
each of its keep-alive connections from /proc (Linux), so it knows whose requests are whose.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.embedded_postgres import EmbeddedPostgres
from entrypoints.http.metrics import FLUSH_AFTER
from tests.api.client import PASSWORD
from tests.e2e.server import ServerProcess, environment, serving_process

WORKERS = 2


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServerProcess]:
    saved = os.environ.pop("NOTES_DATABASE_URL", None)
    data = tmp_path / "data"
    env = {"NOTES_DATA_DIR": str(data), "NOTES_LOG_LEVEL": "warning"}
    server = ServerProcess(env, "--workers", str(WORKERS)).start()
    try:
        yield server
    finally:
        assert server.stop() == 0
        assert not EmbeddedPostgres(data / "postgres").is_running()
        EmbeddedPostgres(data / "postgres").destroy()
        if saved is not None:
            os.environ["NOTES_DATABASE_URL"] = saved


def _workers(server: ServerProcess, within_s: float = 30) -> list[int]:
    """The worker pids, once there are ``WORKERS`` of them, all answering."""
    deadline = time.monotonic() + within_s
    while len(pids := server.workers()) != WORKERS:
        assert time.monotonic() < deadline, f"workers: {pids}"
        time.sleep(0.1)
    return pids


def _connection_to_each_worker(
    server: ServerProcess, workers: list[int], headers: dict[str, str]
) -> dict[int, httpx.Client]:
    """A client per worker, each with one keep-alive connection that worker holds."""
    clients: dict[int, httpx.Client] = {}
    for _ in range(200):
        client = httpx.Client(
            base_url=server.base_url,
            headers=headers,
            timeout=30,
            limits=httpx.Limits(max_connections=1),
        )
        response = client.get("/users/me")
        assert response.status_code == 200
        _, port = response.extensions["network_stream"].get_extra_info("client_addr")
        worker = serving_process(server.port, port, workers)
        if worker is not None and worker not in clients:
            clients[worker] = client
            if len(clients) == WORKERS:
                return clients
        else:
            client.close()
    raise AssertionError(f"no connection reached every worker: {sorted(clients)} of {workers}")


def _count(metrics: str, route: str) -> float:
    """How many ``GET route`` requests answered 200, according to a scrape."""
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            labels = {"method": "GET", "route": route, "status": "200"}
            if sample.name == "notes_http_requests_total" and sample.labels == labels:
                return sample.value
    return 0.0


def _sign_in(base_url: str) -> dict[str, str]:
    account = {"username": "alice", "password": PASSWORD}
    assert httpx.post(f"{base_url}/users/", json=account).status_code == 201
    session = httpx.post(f"{base_url}/auth/token", data=account)
    assert session.status_code == 200
    return {"Authorization": f"Bearer {session.json()['access_token']}"}


def test_two_workers_share_the_database_and_the_metrics_and_outlive_each_other(
    served: ServerProcess,
) -> None:
    workers = _workers(served)
    # The supervisor started the database once and told every worker where it is.
    for pid in workers:
        assert environment(pid)["NOTES_DATABASE_URL"].startswith("postgresql+asyncpg://")
    metrics_dir = Path(environment(workers[0])["PROMETHEUS_MULTIPROC_DIR"])

    headers = _sign_in(served.base_url)
    clients = _connection_to_each_worker(served, workers, headers)
    victim, survivor = workers
    try:
        # A note made through one worker is read through the other.
        note = clients[victim].post("/notes/", json={"title": "shared"}).json()
        assert clients[survivor].get(f"/notes/{note['id']}").json() == note

        # Each worker's scrape counts the requests both served, once the other worker has
        # flushed its counts (within FLUSH_AFTER of its last request).
        for _ in range(3):
            assert clients[victim].get("/readyz").status_code == 200
        for _ in range(5):
            assert clients[survivor].get("/readyz").status_code == 200
        deadline = time.monotonic() + 10
        for client in clients.values():
            while (count := _count(client.get("/metrics").text, "/readyz")) != 8:
                assert count < 8, count
                assert time.monotonic() < deadline, f"{count} of 8 requests counted"
                time.sleep(FLUSH_AFTER / 2)

        # The survivor keeps serving its connection while the other worker is killed.
        statuses: list[int] = []
        stop = threading.Event()

        def keep_asking() -> None:
            while not stop.is_set():
                statuses.append(clients[survivor].get(f"/notes/{note['id']}").status_code)

        asking = threading.Thread(target=keep_asking)
        asking.start()
        try:
            time.sleep(0.2)
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while victim in (replaced := served.workers()) or len(replaced) != WORKERS:
                assert time.monotonic() < deadline, f"not replaced: {replaced}"
                time.sleep(0.1)
            # New connections are served, by whichever worker takes them.
            for _ in range(20):
                response = httpx.get(f"{served.base_url}/notes/{note['id']}", headers=headers)
                assert response.status_code == 200
        finally:
            stop.set()
            asking.join()
        assert statuses
        assert set(statuses) == {200}, statuses

        # The dead worker's counts stay in the totals; its pool gauges do not.
        scraped = clients[survivor].get("/metrics").text
        assert _count(scraped, "/readyz") == 8
        assert not list(metrics_dir.glob(f"gauge_live*_{victim}.db"))
        assert list(metrics_dir.glob(f"counter_{victim}.db"))
    finally:
        for client in clients.values():
            client.close()
