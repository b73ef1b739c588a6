"""Web desk latency on a large hit database: the pages over HTTP, in process.

Reuses query_bench.py's synthetic database (built once, cached in bench/.cache/)
and times, through Starlette's test client (so routing, the store's thread and
template rendering count, the network does not), the pages a reader opens
most: the desk (the newest 300 hits by story), the desk filtered by a term,
a hit's article, a search, and the term editor's live preview, whose cost
grows with how many stored articles the edited and the saved query catch
(each reads up to `tune.CAUGHT`). Prints the median and p95 of --runs runs
after one warm-up.

    .venv/bin/python bench/web_bench.py [--articles 1000000] [--hits 100000] [--runs 11]
    .venv/bin/python bench/web_bench.py --articles 20000 --hits 2000   # quick
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from query_bench import CACHE, ROOT, build
from starlette.testclient import TestClient

from watcher.config.load import load_config
from watcher.store import Store
from watcher.web.app import Desk, create_app

TERMS = {
    "critical minerals": '"critical minerals" OR "rare earth*"',
    "UNICORN antenna": '"Unified Complex Radio Antenna" OR "stealth mast"',
}
EDITS = {  # the editor's preview: (term, the edited query)
    "narrow edit (UNICORN antenna + UNICORN)": ("UNICORN antenna", 'UNICORN OR "stealth mast"'),
    "broad edit (critical minerals + lithium)": (
        "critical minerals",
        '"critical minerals" OR "rare earth*" OR lithium',
    ),
}


def config_for(database: Path, folder: Path) -> Path:
    lines = ["[storage]", f'path = "{database}"']
    for name, query in TERMS.items():
        lines += ["[[terms]]", f'name = "{name}"', f"query = '{query}'"]
    path = folder / "watcher.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def timed(run: Callable[[], int], runs: int) -> tuple[float, float, int]:
    size = run()  # warm-up
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
    return statistics.median(seconds) * 1000, p95 * 1000, size


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--hits", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"query-{args.articles}-{args.hits}.db"
    if not path.exists():
        print(f"building {path.relative_to(ROOT)} (query_bench.py's database)")
        build(path, args.articles, args.hits, 1)
    with tempfile.TemporaryDirectory() as scratch:
        config = load_config(config_for(path, Path(scratch)))
        with Store.open(path) as store:

            async def reload() -> str:
                return ""

            client = TestClient(
                create_app(Desk(store, lambda: config, reload), "bench"),
                base_url="http://127.0.0.1:8580",
            )
            hit = client.get("/").text.split('href="/hits/', 1)[1].split('"', 1)[0]

            def page(url: str, **params: str) -> Callable[[], int]:
                def run() -> int:
                    answer = client.get(url, params=params)
                    assert answer.status_code == 200, answer.text[:300]
                    return len(answer.content)

                return run

            cases = {
                "desk (newest 300 hits)": page("/"),
                "desk --term cricket": page("/", term="cricket"),
                "hit page": page(f"/hits/{hit}"),
                "search lithium NEAR/10 battery*": page("/search", q="lithium NEAR/10 battery*"),
                **{
                    f"tune preview, {label}": page("/tune/preview", term=term, query=query)
                    for label, (term, query) in EDITS.items()
                },
            }
            print(
                f"{args.articles:,} articles, {args.hits:,} hits; {args.runs} runs after a"
                " warm-up, in process (no network)"
            )
            width = max(map(len, cases))
            print(f"{'page':<{width}}  {'median ms':>9}  {'p95 ms':>7}  {'bytes':>8}")
            for label, run in cases.items():
                median, p95, size = timed(run, args.runs)
                print(f"{label:<{width}}  {median:9.1f}  {p95:7.1f}  {size:>8,}")


if __name__ == "__main__":
    main()
