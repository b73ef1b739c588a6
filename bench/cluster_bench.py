"""Several `watcher run` processes sharing one PostgreSQL database: entries per second and shares.

A PostgreSQL server of its own in a temporary folder (tests/pgserver.py, as
the tests start theirs: a Unix socket, fsync off) and a feed farm on
127.0.0.1 (`feedfarm.Farm`, generated pages) whose every answer takes
`--latency` seconds (300 ms), so that polling is bound by waiting, not by the
two cores. For each count of processes in `--processes` (1, 2, 3), a fresh
database, and that many `watcher -v run` processes started at once with one
config: every feed polled once (interval 1 h, adaptive polling off),
`[fetch] concurrency` and `per_host` both `--concurrency` (the farm's feeds
all live on 127.0.0.1, standing in for as many publishers).

It waits until every farm entry is stored (at most `--timeout` seconds),
printing progress every 5 s, then stops the processes (SIGTERM) and prints,
per run: entries per second (from the first poll's start to the last poll's
end, as the `polls` table has them), each process's share of feeds and new
entries (from its own log: one line per poll), CPU per entry of the
processes (their extraction workers included; from each one's first poll
on, leaving out start-up) and of the PostgreSQL server, and the duplicates
found, which must all be 0: feeds polled by two processes, pages the farm
served twice, articles stored twice, hits stored twice, entries counted new
by two processes. Also how often a process waited for an advisory lock
another held (pg_locks, sampled every half second), and the tables' rows
and bytes. Recall is checked against the farm's planted articles.
`--rounds 2` runs the whole list twice, in turns (1, 2, 3, 1, 2, 3), for
the machine's drift. Exits 1 when a duplicate is found or an entry is
missing.

    .venv/bin/python bench/cluster_bench.py                        # 300 feeds x 10, 1 2 3 processes
    .venv/bin/python bench/cluster_bench.py --rounds 2
    .venv/bin/python bench/cluster_bench.py --feeds 40 --processes 2   # a quick check
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from feedfarm import LAST_MODIFIED, Farm
from run import SHIPPED_CONFIG, family_cpu, watcher_hits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from pgserver import PostgresServer  # noqa: E402  (tests/: a server in a temporary folder)

WATCHER = ROOT / ".venv" / "bin" / "watcher"
# One line per poll in a service's log: "feed 'farm 12': ok, 10 entries, 10 new, 0 updated, 0 hits".
POLL_LINE = re.compile(r"feed '(?P<feed>farm \d+)': (?P<status>\w+), \d+ entries, (?P<new>\d+) new")
PROGRESS = 5.0  # seconds between progress lines
# Processes waiting for an advisory lock another holds (story clustering's, mostly).
WAITING = "SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND locktype = 'advisory'"
STOP_WAIT = 30.0  # seconds a process gets to stop after SIGTERM before SIGKILL


class LoopbackFarm(Farm):
    """The farm with URLs on 127.0.0.1 itself, which `watcher run` reaches without the
    Host-routing transports (its own fetcher resolves names)."""

    def feed_url(self, feed: int) -> str:
        return f"http://127.0.0.1:{self.port}/f/{feed}/feed.xml"

    def page_url(self, feed: int, entry: int) -> str:
        return f"http://127.0.0.1:{self.port}/a/{feed}/{entry}"

    def _answer(self, target: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        parts = target.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "f" and parts[2] == "feed.xml":
            feed = int(parts[1])
            self.requests["feed 200"] += 1
            kind = {"Content-Type": "application/rss+xml; charset=utf-8"}
            return 200, {"Last-Modified": LAST_MODIFIED, **kind}, self.feed_xml(feed)
        return super()._answer(target, headers)


@dataclass
class Outcome:
    """What one run of `processes` watchers did."""

    processes: int
    seconds: float = 0.0  # first poll's start to last poll's end
    launched: float = 0.0  # first process started to the last entry stored
    entries: int = 0
    feeds: list[int] = field(default_factory=list)  # feeds polled, per process
    new: list[int] = field(default_factory=list)  # entries counted new, per process
    cpu: list[float] = field(default_factory=list)  # CPU s per process from its first poll on
    server_cpu: float = 0.0
    duplicates: dict[str, int] = field(default_factory=dict)
    recall: tuple[int, int] = (0, 0)
    missing: int = 0
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # table: rows, bytes
    waiting: list[int] = field(default_factory=list)  # per sample: processes waiting on a lock

    @property
    def rate(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0


def config_text(farm: Farm, url: str, concurrency: int) -> str:
    """The shipped watch-terms, the farm's feeds each polled once, the database at `url`."""
    shipped = SHIPPED_CONFIG.read_text(encoding="utf-8")
    terms = shipped[shipped.index("# --- watch-terms ---") :]
    feeds = "".join(
        f'[[feeds]]\nname = "farm {feed}"\nurl = "{farm.feed_url(feed)}"\n'
        for feed in range(farm.feeds)
    )
    return (
        f'[storage]\nurl = "{url}"\n'
        # 127.0.0.1 is a private address: only this switch lets watcher fetch from it.
        f"[fetch]\nallow_private_addresses = true\nconcurrency = {concurrency}\n"
        f"per_host = {concurrency}\n"
        '[poll]\ninterval = "1h"\nadaptive = false\n'
        f"{feeds}{terms}"
    )


def shares(logs: list[Path]) -> list[dict[str, int]]:
    """Per process, the new entries of each feed it polled (from its log)."""
    found: list[dict[str, int]] = []
    for path in logs:
        polled: dict[str, int] = {}
        with contextlib.suppress(FileNotFoundError):
            for match in POLL_LINE.finditer(path.read_text(errors="replace")):
                feed = match["feed"]
                if feed in polled:  # polled twice by this process: counted as a duplicate
                    polled[f"{feed} again"] = int(match["new"])
                else:
                    polled[feed] = int(match["new"])
        found.append(polled)
    return found


def query(conn: Any, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])


def one_run(
    server: PostgresServer, farm: Farm, count: int, args: argparse.Namespace, folder: Path
) -> Outcome:
    import psycopg

    from watcher.store import open_storage

    url, name = server.create_database()
    home = folder / f"run-{count}-{time.monotonic_ns()}"
    home.mkdir()
    config = home / "watcher.toml"
    config.write_text(config_text(farm, url, args.concurrency), encoding="utf-8")
    open_storage(url).close()  # the schema made before, not by the processes racing to it
    total = farm.feeds * farm.entries
    farm.page_gets.clear()
    farm.requests.clear()
    postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    server_before = family_cpu(postmaster)
    logs = [home / f"process-{index}.log" for index in range(count)]
    outcome = Outcome(count, entries=total)
    started = time.monotonic()
    processes = []
    for log in logs:
        with log.open("w") as stream:
            processes.append(
                subprocess.Popen(
                    [str(WATCHER), "--config", str(config), "-v", "run"],
                    stdout=stream,
                    stderr=stream,
                    cwd=home,
                )
            )
    print(f"  {count} process{'es' if count > 1 else ''}: pids "
          f"{', '.join(str(p.pid) for p in processes)}", flush=True)  # fmt: skip
    cpu = [0.0] * count  # each process's CPU seconds from its first poll on
    begun = [0.0] * count
    with psycopg.connect(url, autocommit=True) as conn:
        stored, shown = 0, started
        while True:
            time.sleep(0.5)
            stored = query(conn, "SELECT COUNT(*) FROM articles")
            # Story clustering takes one advisory lock to each feed's commit: how often a
            # process waits for another's shows whether the shared writes are the limit.
            outcome.waiting.append(query(conn, WAITING))
            now = time.monotonic()
            polled = [len(part) for part in shares(logs)]
            for index, process in enumerate(processes):  # before they stop, workers included
                used = family_cpu(process.pid)
                if not polled[index]:  # start-up (imports, the worker pool) is left out
                    begun[index] = used
                cpu[index] = max(cpu[index], used - begun[index])
            done = stored >= total or now - started > args.timeout
            dead = [p.pid for p in processes if p.poll() is not None]
            if now - shown >= PROGRESS or done or dead:
                shown = now
                load = os.getloadavg()[0]
                print(f"    {now - started:5.0f} s: {stored}/{total} entries stored; feeds"
                      f" polled per process {polled}; load {load:.1f}", flush=True)  # fmt: skip
            if done or dead:
                break
        outcome.launched = time.monotonic() - started
        outcome.server_cpu = family_cpu(postmaster) - server_before
        first, last = conn.execute("SELECT MIN(started_at), MAX(finished_at) FROM polls").fetchone()
        if first and last:
            span = datetime.fromisoformat(last) - datetime.fromisoformat(first)
            outcome.seconds = span.total_seconds()
        outcome.missing = total - stored
        outcome.sizes = {
            table: (query(conn, f"SELECT COUNT(*) FROM {table}"),
                    query(conn, f"SELECT pg_total_relation_size('{table}')"))
            for table in ("articles", "article_words", "article_bands", "hits", "polls")
        }  # fmt: skip
        outcome.duplicates["articles stored twice"] = query(
            conn, "SELECT COUNT(*) FROM (SELECT url FROM articles GROUP BY url"
            " HAVING COUNT(*) > 1) AS twice",
        )  # fmt: skip
        outcome.duplicates["hits stored twice"] = query(
            conn, "SELECT COUNT(*) FROM (SELECT article_id, term FROM hits GROUP BY 1, 2"
            " HAVING COUNT(*) > 1) AS twice",
        )  # fmt: skip
    if count > 1:  # what `watcher status` shows of the processes sharing the database
        status = subprocess.run([str(WATCHER), "--config", str(config), "status"],
                                capture_output=True, text=True, check=False, cwd=home)  # fmt: skip
        lines = status.stdout.partition("processes:")[2].partition("\n\n")[0]  # not the feeds
        print("    watcher status: processes:" + lines.replace("\n", "\n    "))
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    found = shares(logs)
    outcome.feeds = [len(part) for part in found]
    outcome.new = [sum(part.values()) for part in found]
    outcome.cpu = cpu
    feeds_seen = Counter(feed.removesuffix(" again") for part in found for feed in part)
    outcome.duplicates["feeds polled twice"] = sum(1 for n in feeds_seen.values() if n > 1)
    outcome.duplicates["pages served twice"] = sum(1 for n in farm.page_gets.values() if n > 1)
    outcome.duplicates["entries new twice"] = max(0, sum(outcome.new) - (total - outcome.missing))
    expected = {(farm.page_url(p.feed, p.entry), p.term) for p in farm.planted.values()}
    caught = watcher_hits(url) & expected
    outcome.recall = (len(caught), len(expected))
    server.drop_database(name)
    return outcome


def report(outcomes: list[Outcome], cores: int) -> None:
    print("\n| processes | entries | wall s (polls) | entries/s | feeds per process | new"
          " entries per process | CPU/entry: watchers, server | duplicates | recall |")  # fmt: skip
    print("|---:|---:|---:|---:|---|---|---|---:|---:|")
    for out in outcomes:
        work = sum(out.cpu) / out.entries * 1000
        server = out.server_cpu / out.entries * 1000
        print(f"| {out.processes} | {out.entries - out.missing}/{out.entries} | {out.seconds:.1f} |"
              f" {out.rate:.1f} | {' / '.join(map(str, out.feeds))} |"
              f" {' / '.join(map(str, out.new))} | {work:.1f}, {server:.1f} ms |"
              f" {sum(out.duplicates.values())} | {out.recall[0]}/{out.recall[1]} |")  # fmt: skip
    by_count: dict[int, list[float]] = {}
    for out in outcomes:
        by_count.setdefault(out.processes, []).append(out.rate)
    one = statistics.median(by_count[min(by_count)])
    print()
    for count, rates in sorted(by_count.items()):
        cpu = [(sum(o.cpu) + o.server_cpu) / o.seconds / cores for o in outcomes
               if o.processes == count and o.seconds]  # fmt: skip
        print(f"{count} process(es): median {statistics.median(rates):.1f} entries/s, "
              f"{statistics.median(rates) / one:.2f}x {min(by_count)}; cores busy with watcher"
              f" and PostgreSQL {max(cpu, default=0):.0%}; a process waiting on a lock in"
              f" {waits(outcomes, count):.0%} of the samples")  # fmt: skip
    last = outcomes[-1].sizes
    print("tables after the last run (rows, bytes with indexes, bytes a row): " + ", ".join(
        f"{table} {rows:,} {size / 1e6:.1f} MB {size / max(1, rows):,.0f}"
        for table, (rows, size) in last.items()
    ))  # fmt: skip
    for out in outcomes:
        found = {kind: n for kind, n in out.duplicates.items() if n}
        if found or out.missing:
            print(f"{out.processes} processes: duplicates {found}, {out.missing} entries missing")


def waits(outcomes: list[Outcome], count: int) -> float:
    """The share of the half-second samples, over the runs of `count` processes, in which
    some process waited for a lock another held."""
    samples = [n for out in outcomes if out.processes == count for n in out.waiting]
    return sum(1 for n in samples if n) / max(1, len(samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--processes", default="1,2,3", help="counts of processes, in turn")
    parser.add_argument("--rounds", type=int, default=1, help="times the list is run")
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--entries", type=int, default=10, help="entries per feed")
    parser.add_argument("--latency", type=float, default=0.3, help="farm seconds per answer")
    parser.add_argument("--concurrency", type=int, default=6, help="requests in flight a process")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a run may take")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    counts = [int(part) for part in args.processes.split(",")] * args.rounds
    cores = os.cpu_count() or 1
    farm = LoopbackFarm(args.feeds, args.entries, seed=args.seed, latency=args.latency).start()
    server = PostgresServer().start()
    print(f"{args.feeds} feeds x {args.entries} entries, generated pages, {len(farm.planted)} "
          f"planted; answers take {args.latency * 1000:g} ms; concurrency {args.concurrency} a "
          f"process; PostgreSQL from {server.binaries}; {cores} cores; load average "
          f"{' '.join(f'{n:.2f}' for n in os.getloadavg())}", flush=True)  # fmt: skip
    outcomes = []
    try:
        with tempfile.TemporaryDirectory(prefix="watcher-cluster-") as folder:
            for count in counts:
                outcomes.append(one_run(server, farm, count, args, Path(folder)))
    finally:
        server.close()
        farm.close()
    report(outcomes, cores)
    if any(sum(out.duplicates.values()) or out.missing for out in outcomes):
        sys.exit(1)


if __name__ == "__main__":
    main()
