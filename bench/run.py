"""watcher against the simplest sequential program, on one loopback feed farm.

For each scenario a feed farm (`feedfarm.py`) serves N feeds of M entries on
127.0.0.1, and each program polls it in a process of its own, with an empty
database: a cold cycle (every entry new), then warm cycles (nothing changed,
every feed answers 304). Printed for each: wall seconds, entries (or feeds)
per second, CPU per entry of the process and every process under it
(watcher's extraction workers count) and of the process alone, the farm's
CPU (this process), peak memory (RSS summed over those processes and of the
process alone, sampled every 0.2 s; PSS summed, every second), pages fetched
twice, and recall on the farm's planted articles. Also printed: the
extraction-only lower bound, the CPU time trafilatura takes for the same
pages as watcher calls it (`extract.read_page`; each distinct page timed
once, in a process of its own, before and after the programs: the mean)
divided by the machine's cores.

    .venv/bin/python bench/run.py                        # all three scenarios
    .venv/bin/python bench/run.py --scenario cold-real   # 200 feeds x 20 real pages
    .venv/bin/python bench/run.py --scenario warm --warm-cycles 20
    .venv/bin/python bench/run.py --scenario cold-real --program watcher --storage both

`--storage postgres` keeps watcher's database in PostgreSQL (a server of its
own in a temporary folder, started as the tests start theirs:
tests/pgserver.py), `both` runs watcher on SQLite and then on PostgreSQL on
the same farm (issue 20). For a PostgreSQL run the server's CPU (every
process of the cluster) is printed beside watcher's, and for each run the
database's size once the run is done: bytes per article, per table.

Scenarios: cold-real (200 x 20, the corpus's real pages in turn),
cold-generated (200 x 20 generated pages), warm (1000 x 5 generated, one
cold cycle to fill the database, then --warm-cycles warm ones; watcher's
memory after each shows whether it grows).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from feedfarm import AsyncRoute, Farm, Route

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from pgserver import PostgresServer  # noqa: E402  (tests/: a server in a temporary folder)

SHIPPED_CONFIG = ROOT / "config" / "watcher.toml"
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SCENARIOS = {
    # name: (feeds, entries, pages)
    "cold-real": (200, 20, "real"),
    "cold-generated": (200, 20, "generated"),
    "warm": (1000, 5, "generated"),
}


# -- processes: CPU and memory of a process and everything under it --------------------


def family(pid: int) -> list[int]:
    """`pid` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def family_cpu(pid: int) -> float:
    return sum(cpu_seconds(member) for member in family(pid))


def pss_mb(pids: list[int]) -> float:
    """Proportional set size summed over `pids`, in MB (shared pages divided among sharers)."""
    pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return pss / 1024


def rss_mb(pid: int) -> float:
    """Resident set size of one process in MB (0 once it is gone)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return pages * PAGE_SIZE / 2**20


class Sampler(threading.Thread):
    """Samples a process family's memory while it runs: RSS of all and of the process
    itself every 0.2 s, PSS of all every second (reading it walks the page tables, and
    the sampler shares the cores with the program it measures)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float, float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        members, pss, tick = [self.pid], 0.0, 0
        while not self.done.wait(0.2):
            if tick % 5 == 0:
                members = family(self.pid)
                pss = pss_mb(members)
            tick += 1
            sizes = {member: rss_mb(member) for member in members}  # `members` has `pid`
            self.samples.append((time.time(), sum(sizes.values()), pss, sizes[self.pid]))

    def peak(self, start: float, end: float) -> tuple[float, float, float]:
        """The highest RSS, PSS and main-process RSS sampled between `start` and `end`."""
        inside = [sample[1:] for sample in self.samples if start <= sample[0] <= end + 0.2]
        if not inside:
            return 0.0, 0.0, 0.0
        return tuple(max(column) for column in zip(*inside, strict=True))  # type: ignore[return-value]


# -- the programs, each in a process of its own -------------------------------------------


def child_watcher(config_path: str, port: int, cycles: int) -> None:
    from watcher.app.poll import Poller
    from watcher.config.load import load_config  # the child's own imports
    from watcher.sources.extract import Extractor
    from watcher.sources.http import Fetcher
    from watcher.store import open_storage

    async def cycles_of_polls() -> None:
        config = load_config(config_path)
        with open_storage(config.database) as store, Extractor() as extractor:
            store.sync(config.feeds, config.channels, datetime.now(UTC))
            async with Fetcher(config.fetch, AsyncRoute(port)) as fetcher:
                poller = Poller(config, store, fetcher, extractor)
                for cycle in range(cycles):
                    start, clock = time.time(), time.perf_counter()
                    results = await poller.poll_all(config.feeds)
                    report(
                        cycle,
                        start,
                        time.perf_counter() - clock,
                        family_cpu(os.getpid()),
                        sum(result.new_articles for result in results),
                        Counter(result.status for result in results),
                    )

    asyncio.run(cycles_of_polls())


def child_baseline(db_path: str, port: int, cycles: int, feeds: list[str]) -> None:
    import baseline  # imports trafilatura: only in this process

    db = baseline.connect(db_path)
    with httpx.Client(transport=Route(port), timeout=20) as client:
        for cycle in range(cycles):
            start, clock = time.time(), time.perf_counter()
            stored = baseline.poll_all(db, client, feeds)
            wall = time.perf_counter() - clock
            report(cycle, start, wall, cpu_seconds(os.getpid()), stored, {})


def report(
    cycle: int, start: float, wall: float, cpu: float, new: int, statuses: dict[str, int]
) -> None:
    line = {
        "cycle": cycle,
        "start": start,
        "wall": wall,
        "cpu": cpu,
        "main_cpu": cpu_seconds(os.getpid()),
        "new": new,
        "statuses": statuses,
        "rss": rss_mb(os.getpid()),
    }
    print(json.dumps(line), flush=True)
    sys.stdin.readline()  # the parent has counted the farm's requests: next cycle


def child_lower_bound(feeds: int, entries: int, pages: str, seed: int, sample: int) -> None:
    """CPU seconds trafilatura takes for the cycle's pages, as watcher calls it (`read_page`),
    each distinct page timed once."""
    from watcher.sources.extract import read_page

    farm = Farm(feeds, entries, pages=pages, seed=seed)
    counts: Counter[bytes] = Counter()
    for feed in range(feeds):
        for entry in range(entries):
            if (feed * entries + entry) % sample == 0:
                counts[farm.page_html(feed, entry)] += sample
    read_page(next(iter(counts)), "http://farm.test/warm-up", metadata=False)
    total = 0.0
    for html, count in counts.items():
        before = time.process_time()
        read_page(html, "http://farm.test/a", metadata=False)
        total += (time.process_time() - before) * count
    print(json.dumps({"extract_cpu": total, "distinct": len(counts)}), flush=True)


# -- the parent: farm, runs, figures ---------------------------------------------------------


@dataclass(frozen=True)
class Cycle:
    """One cycle as a child process reports it."""

    cycle: int
    start: float  # epoch seconds
    wall: float
    cpu: float  # CPU seconds of the child and its processes so far
    main_cpu: float  # CPU seconds of the child process alone so far
    new: int
    statuses: dict[str, int]
    rss: float  # the child's own RSS after the cycle, MB


@dataclass
class Run:
    """What one program did on the farm: a line per cycle, memory, recall."""

    program: str
    cycles: list[Cycle] = field(default_factory=list)
    peaks: list[tuple[float, float, float]] = field(default_factory=list)  # RSS, PSS, main RSS
    farm_cpu: list[float] = field(default_factory=list)  # the farm's CPU seconds per cycle
    refetched: int = 0  # pages the program fetched more than once
    found: set[tuple[str, str]] = field(default_factory=set)  # (article URL, term)
    farm: list[Counter[str]] = field(default_factory=list)  # the farm's requests per cycle
    server_cpu: list[float] = field(default_factory=list)  # PostgreSQL's CPU seconds per cycle
    size: str = ""  # the database's size after the run, for people


def spawn(args: list[str], farm: Farm, server: int | None = None) -> Run:
    """Run `run.py --child ...` and gather its cycle lines, sampling its memory (and the
    CPU of `server`'s processes, a PostgreSQL cluster's postmaster, per cycle)."""
    command = [sys.executable, __file__, "--child", *args]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    sampler = Sampler(process.pid)
    sampler.start()
    run = Run(args[0])
    farm.page_gets.clear()
    before = Counter(farm.requests)
    farm_clock = time.process_time()  # this process: the farm's thread, mostly
    server_clock = family_cpu(server) if server else 0.0
    assert process.stdout is not None and process.stdin is not None
    for line in process.stdout:
        cycle = Cycle(**json.loads(line))
        run.cycles.append(cycle)
        run.peaks.append(sampler.peak(cycle.start, time.time()))
        run.farm.append(Counter(farm.requests) - before)
        before = Counter(farm.requests)
        run.farm_cpu.append(time.process_time() - farm_clock)
        farm_clock = time.process_time()
        if server:  # read while the child's connection, and so its backend, is still there
            run.server_cpu.append(family_cpu(server) - server_clock)
            server_clock = family_cpu(server)
        process.stdin.write("\n")
        process.stdin.flush()
        print(f"  {args[0]} cycle {cycle.cycle}: {cycle.wall:.2f} s", flush=True)
    sampler.done.set()
    run.refetched = sum(1 for count in farm.page_gets.values() if count > 1)
    if process.wait() != 0:
        raise SystemExit(f"{args[0]} failed with exit status {process.returncode}")
    return run


def watcher_config(directory: Path, farm: Farm, url: str | None = None) -> Path:
    """The shipped watch-terms, the farm's feeds, and the shipped defaults for the rest;
    the database in `directory`, or PostgreSQL's at `url`."""
    shipped = SHIPPED_CONFIG.read_text(encoding="utf-8")
    terms = shipped[shipped.index("# --- watch-terms ---") :]
    feeds = "".join(
        f'[[feeds]]\nname = "farm {feed}"\nurl = "{farm.feed_url(feed)}"\n'
        for feed in range(farm.feeds)
    )
    path = directory / "watcher.toml"
    storage = f'url = "{url}"' if url else f'path = "{directory / "watcher.db"}"'
    path.write_text(
        f"[storage]\n{storage}\n"
        # The farm's host names resolve nowhere: the address check would refuse them.
        "[fetch]\nallow_private_addresses = true\n"
        f"{feeds}{terms}",
        encoding="utf-8",
    )
    return path


def watcher_hits(where: Path | str) -> set[tuple[str, str]]:
    from watcher.store import open_storage

    with open_storage(where) as store:
        return {(hit.url or "", hit.term) for hit in store.archive.iter_hits()}


def database_size(where: Path | str) -> str:
    """The size of watcher's database at `where` (a file or a URL) once a run is done:
    in all, per article, and its largest tables (each with its indexes)."""
    import sqlite3

    import psycopg

    conn: Any
    if isinstance(where, str):
        conn = psycopg.connect(where)
        empty = scalar(conn, "SELECT pg_database_size('template1')")
        total = scalar(conn, "SELECT pg_database_size(current_database())") - empty
        tables = conn.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class"
            " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        ).fetchall()
        what = f"PostgreSQL {total / 1e6:.1f} MB over an empty database"
    else:
        total = sum(path.stat().st_size for path in where.parent.glob(where.name + "*"))
        conn = sqlite3.connect(where)
        try:  # dbstat: the pages of each table and index, where SQLite was built with it
            tables = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        except sqlite3.OperationalError:
            tables = []
        what = f"SQLite file {total / 1e6:.1f} MB"
    with contextlib.closing(conn):
        articles = scalar(conn, "SELECT COUNT(*) FROM articles")
        hits = scalar(conn, "SELECT COUNT(*) FROM hits")
    largest = sorted(tables, key=lambda row: -int(row[1]))[:6]
    parts = ", ".join(f"{name} {int(size) / 1e6:.1f}" for name, size in largest)
    return (f"{what}: {total / max(1, articles) / 1000:.1f} kB per article ({articles} articles,"
            f" {hits} hits); largest, MB: {parts}")  # fmt: skip


def scalar(conn: Any, query: str) -> int:
    """The one number `query` selects."""
    return int(conn.execute(query).fetchone()[0])


def baseline_hits(db_path: Path) -> set[tuple[str, str]]:
    import baseline

    return baseline.hits(baseline.connect(str(db_path)))


def scenario(name: str, args: argparse.Namespace) -> None:
    feeds, entries, pages = SCENARIOS[name]
    feeds, entries = args.feeds or feeds, args.entries or entries
    cycles = 1 + (args.warm_cycles if name == "warm" else 1)
    total = feeds * entries
    cores = os.cpu_count() or 1
    print(f"\n## {name}: {feeds} feeds x {entries} entries, {pages} pages, latency "
          f"{args.latency * 1000:g} ms, seed {args.seed}, {cores} cores", flush=True)  # fmt: skip
    started = time.perf_counter()
    farm = Farm(feeds, entries, pages=pages, seed=args.seed, latency=args.latency).start()
    print(f"  farm ready in {time.perf_counter() - started:.1f} s: {len(farm.planted)} planted")
    expected = {(farm.page_url(p.feed, p.entry), p.term) for p in farm.planted.values()}
    # The bound is timed before and after the programs, and their mean taken: this shared
    # machine's speed drifts by 10-15% within minutes, and one timing carried that drift.
    bounds = [lower_bound(feeds, entries, pages, args.seed)] if name != "warm" else []
    runs = []
    stores = {"both": ["sqlite", "postgres"]}.get(args.storage, [args.storage])
    server = PostgresServer().start() if "postgres" in stores else None
    with tempfile.TemporaryDirectory(prefix="watcher-bench-") as tmp:
        directory = Path(tmp)
        for store in stores if args.program in ("both", "watcher") else []:
            home = directory / store
            home.mkdir()
            where: Path | str = home / "watcher.db"
            postmaster = None
            if server is not None and store == "postgres":
                where, _ = server.create_database()
                postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
            config = watcher_config(home, farm, where if isinstance(where, str) else None)
            label = "watcher" if store == "sqlite" else "watcher-pg"
            run = spawn([label, str(config), str(farm.port), str(cycles)], farm, postmaster)
            run.found = watcher_hits(where)
            run.size = database_size(where)
            runs.append(run)
        if args.program in ("both", "baseline"):
            db = directory / "baseline.db"
            urls = [farm.feed_url(feed) for feed in range(feeds)]
            run = spawn(["baseline", str(db), str(farm.port), str(cycles), *urls], farm)
            run.found = baseline_hits(db)
            runs.append(run)
    farm.close()
    if server is not None:
        server.close()
    if bounds:
        bounds.append(lower_bound(feeds, entries, pages, args.seed))
    print_figures(name, runs, total, feeds, expected, bounds)


def lower_bound(feeds: int, entries: int, pages: str, seed: int) -> float:
    """Seconds of trafilatura for the cycle's pages, divided by the cores (a child process)."""
    sample = 1 if pages == "real" else 10
    line = subprocess.run(
        [sys.executable, __file__, "--child", "lower-bound", str(feeds), str(entries),
         pages, str(seed), str(sample)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout  # fmt: skip
    return float(json.loads(line)["extract_cpu"]) / (os.cpu_count() or 1)


def print_figures(
    name: str,
    runs: list[Run],
    total: int,
    feeds: int,
    expected: set[tuple[str, str]],
    bounds: list[float],
) -> None:
    print()
    print("| program | cycle | wall s | per second | CPU per entry or feed: all (main) |"
          " farm CPU | peak RSS MB: all (main) | peak PSS MB | farm answered | recall |"
          " unplanted hits |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    cold: dict[str, float] = {}
    for run in runs:
        for index, cycle in enumerate(run.cycles):
            if name == "warm" and 1 < index < len(run.cycles) - 1:
                continue  # the middle warm cycles: summarised below
            earlier = run.cycles[index - 1] if index else None
            cpu = cycle.cpu - (earlier.cpu if earlier else 0.0)
            main = cycle.main_cpu - (earlier.main_cpu if earlier else 0.0)
            answered = ", ".join(f"{n} {kind}" for kind, n in sorted(run.farm[index].items()))
            rss, pss, own = run.peaks[index]
            count, unit = (total, "entries") if index == 0 else (feeds, "feeds")
            figures = (
                f"{count / cycle.wall:.0f} {unit} | {cpu / count * 1000:.2f} "
                f"({main / count * 1000:.2f}) ms | {run.farm_cpu[index] / count * 1000:.2f} ms"
            )
            quality = " | "
            if index == 0:
                cold[run.program] = total / cycle.wall
                caught = len(run.found & expected)
                unplanted = len({url for url, _ in run.found - expected})
                quality = (
                    f"{caught / max(1, len(expected)):.0%} ({caught}/{len(expected)}) | {unplanted}"
                )
            label = "cold" if index == 0 else f"warm {index}"
            memory = f"{rss:.0f} ({own:.0f}) | {pss:.0f}" if rss else "- | -"  # a cycle under 0.2 s
            print(f"| {run.program} | {label} | {cycle.wall:.2f} | {figures} | {memory} | "
                  f"{answered} | {quality} |")  # fmt: skip
    for run in runs:
        print(f"\n{run.program}: pages fetched more than once: {run.refetched}", end="")
        if run.server_cpu:
            cold_server = run.server_cpu[0] / total * 1000
            print(f"; PostgreSQL server CPU per entry (cold): {cold_server:.2f} ms", end="")
            if len(run.server_cpu) > 1:
                warm_server = statistics.median(run.server_cpu[1:]) / feeds * 1000
                print(f", per feed (warm, median): {warm_server:.2f} ms", end="")
        if run.size:
            print(f"\n{run.program}: {run.size}", end="")
        warm = run.cycles[1:]
        if len(warm) > 1:
            walls = [cycle.wall for cycle in warm]
            sizes = [cycle.rss for cycle in warm]
            unchanged = [answered["feed 304"] for answered in run.farm[1:]]
            print(f"; {len(warm)} warm cycles: wall median "
                  f"{statistics.median(walls):.2f} s, max {max(walls):.2f} s; "
                  f"304s per cycle {min(unchanged)}-{max(unchanged)}; main process RSS "
                  f"after each {sizes[0]:.0f} -> {sizes[-1]:.0f} MB (max {max(sizes):.0f}, "
                  f"first to last {sizes[-1] / sizes[0] - 1:+.1%})")  # fmt: skip
    print()
    by_program = {run.program: run for run in runs}
    if "watcher" in cold and "baseline" in cold:
        ratio = cold["watcher"] / cold["baseline"]
        watcher, baseline = by_program["watcher"], by_program["baseline"]
        cpu = watcher.cycles[0].cpu / baseline.cycles[0].cpu
        print(f"watcher / baseline, cold entries per second: {ratio:.2f}x; CPU per entry: "
              f"{cpu:.2f}x", end="")  # fmt: skip
        if len(watcher.cycles) > 1 and len(baseline.cycles) > 1:
            warm = statistics.median(c.wall for c in watcher.cycles[1:]) / statistics.median(
                c.wall for c in baseline.cycles[1:]
            )
            print(f"; warm cycle wall time: {warm:.2f}x", end="")
        print()
    if "watcher" in cold and "watcher-pg" in cold:
        lite, pg = by_program["watcher"].cycles[0], by_program["watcher-pg"].cycles[0]
        server = by_program["watcher-pg"].server_cpu[0]
        speed = cold["watcher-pg"] / cold["watcher"]
        print(f"PostgreSQL / SQLite, one process, cold: entries per second {speed:.2f}x; CPU "
              f"per entry {pg.cpu / lite.cpu:.2f}x (main process {pg.main_cpu / lite.main_cpu:.2f}x"
              f"), {(pg.cpu + server) / lite.cpu:.2f}x with the server's")  # fmt: skip
    if bounds:
        bound = statistics.mean(bounds)
        timed = ", ".join(f"{b:.2f}" for b in bounds)
        print(f"extraction-only lower bound: {bound:.2f} s ({total / bound:.0f} entries/s; "
              f"timed before and after the programs: {timed} s)", end="")  # fmt: skip
        if "watcher" in cold:
            print(f"; watcher's cold cycle is {total / cold['watcher'] / bound:.2f}x it", end="")
        print()


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, rest = sys.argv[2], sys.argv[3:]
        if kind in ("watcher", "watcher-pg"):
            child_watcher(rest[0], int(rest[1]), int(rest[2]))
        elif kind == "baseline":
            child_baseline(rest[0], int(rest[1]), int(rest[2]), rest[3:])
        else:
            child_lower_bound(int(rest[0]), int(rest[1]), rest[2], int(rest[3]), int(rest[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--program", choices=["both", "watcher", "baseline"], default="both")
    parser.add_argument(
        "--storage",
        choices=["sqlite", "postgres", "both"],
        default="sqlite",
        help="watcher's database (both: a run on each, SQLite first)",
    )
    parser.add_argument("--feeds", type=int, help="override the scenario's feed count")
    parser.add_argument("--entries", type=int, help="override the scenario's entries per feed")
    parser.add_argument("--latency", type=float, default=0.0, help="farm seconds per answer")
    parser.add_argument("--warm-cycles", type=int, default=20, help="for the warm scenario")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for name in SCENARIOS if args.scenario == "all" else [args.scenario]:
        scenario(name, args)


if __name__ == "__main__":
    main()
