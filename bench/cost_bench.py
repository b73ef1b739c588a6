"""Costly queries: how soon the work budget ends them, and the memory they take.

Each case runs in a fresh process (so its peak memory is its own): a query
built to be costly on a text built to match it everywhere (issue 17, item 8),
and, for comparison, queries a user would write on 5 MB of text.

    .venv/bin/python bench/cost_bench.py
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time

CASES = {
    "40 chained (cell OR UNICORN) NEAR/100, 85 kB": (
        " NEAR/100 ".join(["(cell OR UNICORN)"] * 40),
        "the cell and UNICORN cell of a cell. ",
        85_000,
    ),
    "800 ANDed abc*, 5 MB": (" ".join(["abc*"] * 800), "abcde abcdf abcdg abc. ", 5_000_000),
    '"日印 対話" on 日印ＡＩ対話 everywhere, 9.5 MB': ('"日印 対話"', "日印ＡＩ対話 ", 9_500_000),
    "said NEAR/10 (India OR Japan), 5 MB of plain text": (
        "said NEAR/10 (India OR Japan)",
        "The minister said India and Japan agreed on the rail line. "
        + "Officials from both sides met for a second day of talks in the capital. " * 8,
        5_000_000,
    ),
    "the*, 5 MB of plain text": (
        "the*",
        "Officials from both sides met for a second day of talks in the capital. ",
        5_000_000,
    ),
}


def run(name: str) -> None:
    from watcher.errors import QueryCostError
    from watcher.match.terms import Matcher, compile_term

    query, unit, size = CASES[name]
    text = unit * (size // len(unit))
    matcher = Matcher([compile_term("t", query)])
    started = time.perf_counter()
    try:
        outcome = f"{len(matcher.match('', text))} match"
    except QueryCostError:
        outcome = "too costly"
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{name:<52} {seconds:6.2f} s {peak:6.0f} MB  {outcome}")


def main() -> None:
    if len(sys.argv) > 1:
        run(sys.argv[1])
        return
    print(f"{'case':<52} {'time':>8} {'peak':>9}  outcome")
    for name in CASES:
        subprocess.run([sys.executable, __file__, name], check=True)


if __name__ == "__main__":
    main()
