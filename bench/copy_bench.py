"""`watcher db copy` on a large database: SQLite to PostgreSQL and back, rows per second.

The SQLite database is query_bench.py's synthetic one (built once and cached
in bench/.cache/: --articles articles with their full-text index, --hits
hits, one channel's sent digests). PostgreSQL is a server of its own in a
temporary folder (tests/pgserver.py, as the tests start it: fsync off), or
the database --url names, which must be empty. The copy runs through
`copy_database`, as the CLI calls it; each table's time is taken from its
progress reports, the search index's rebuild separately.

    .venv/bin/python bench/copy_bench.py [--articles 100000] [--hits 10000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import query_bench  # noqa: E402  (bench/: the synthetic database)

from pgserver import PostgresServer  # noqa: E402  (tests/: a server in a temporary folder)
from watcher.store.copy import copy_database  # noqa: E402


class Clock:
    """Each table's rows and seconds, from the copy's progress reports."""

    def __init__(self) -> None:
        self.tables: dict[str, list[float]] = {}  # table -> [first report, last report, rows]
        self.last = time.perf_counter()

    def __call__(self, table: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if table not in self.tables:
            self.tables[table] = [self.last, now, 0]
        self.tables[table][1:] = [now, done]
        self.last = now

    def report(self, title: str) -> float:
        total = sum(end - start for start, end, _ in self.tables.values())
        print(f"{title}: {total:.1f} s")
        for table, (start, end, rows) in self.tables.items():
            rate = rows / (end - start) if end > start else 0.0
            print(f"  {table:<16} {int(rows):>9,} rows {end - start:7.2f} s {rate:>10,.0f} rows/s")
        return total


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--hits", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--url", help="an empty PostgreSQL database (else one is started)")
    args = parser.parse_args()
    query_bench.CACHE.mkdir(parents=True, exist_ok=True)
    source = query_bench.CACHE / f"query-{args.articles}-{args.hits}.db"
    if not source.exists():
        query_bench.build(source, args.articles, args.hits, jobs=1)
    size = source.stat().st_size / 1e6
    print(f"source {source.relative_to(ROOT)}: {size:,.0f} MB; batch {args.batch}")
    server = None
    url = args.url
    if url is None:
        server = PostgresServer()
        server.start()
        print(f"PostgreSQL from {server.binaries}: initdb + start {server.startup_seconds:.1f} s")
        url, _ = server.create_database()
    try:
        there = Clock()
        copy_database(str(source), url, datetime.now(UTC), batch=args.batch, progress=there)
        forth = there.report("SQLite -> PostgreSQL")
        with tempfile.TemporaryDirectory(dir=query_bench.CACHE) as scratch:
            back = Clock()
            target = Path(scratch) / "back.db"
            copy_database(url, str(target), datetime.now(UTC), batch=args.batch, progress=back)
            returned = back.report("PostgreSQL -> SQLite (with the search index rebuilt)")
            size = target.stat().st_size / 1e6
            print(f"round trip {forth + returned:.1f} s; the copy {size:,.0f} MB")
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
