"""How long the embedded PostgreSQL takes to be ready: on a new data directory (initdb
included) and on an existing one. Prints the median of several runs of each.

    .venv/bin/python bench/embedded_start.py [runs]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from adapters.embedded_postgres import EmbeddedPostgres


def main(runs: int) -> None:
    first, again = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as scratch:
            server = EmbeddedPostgres(Path(scratch) / "pg")
            started = time.perf_counter()
            server.start()
            first.append(time.perf_counter() - started)
            server.stop()
            started = time.perf_counter()
            server.start()
            again.append(time.perf_counter() - started)
            server.destroy()
    print(f"runs: {runs}")
    print(
        f"first start (initdb + start + create database): median {statistics.median(first):.3f} s"
    )
    print(
        f"start on an existing data directory:            median {statistics.median(again):.3f} s"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
