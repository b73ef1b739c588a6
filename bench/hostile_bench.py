"""How much a hostile feed delays a healthy one, and how long it stalls the event loop.

Two feeds on a loopback server: a hostile one (MEGABYTES of `&lt;` in one
title, and an entry with a lone surrogate) and a healthy one that answers
after a second, while the hostile one is being parsed. Each run polls the
healthy feed alone, then both together, with two extraction workers, and
prints when the healthy feed's poll was done in each, the event loop's
longest stall, and how many of the hostile feed's entries were stored (issue 17).

    .venv/bin/python bench/hostile_bench.py --mb 8 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from watcher.app.oneshot import poll_once
from watcher.config.load import load_config

FEEDS: dict[str, bytes] = {}


def rss(name: str, *titles: str) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><guid>{name}-{n}</guid>"
        "<description>Port news.</description></item>"
        for n, title in enumerate(titles)
    )
    channel = f"<channel><title>W</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = FEEDS.get(self.path)
        if body is None:
            self.send_error(404)
            return
        if self.path == "/healthy.rss":
            time.sleep(1.0)  # answers while the hostile feed is being parsed
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def config_file(folder: Path, base: str, names: list[str]) -> Path:
    lines = [
        f'[storage]\npath = "{folder / "watcher.db"}"',
        '[fetch]\ntimeout = "60s"\nallow_private_addresses = true\nmax_bytes = 20000000',
        '[poll]\ninterval = "15m"\nadaptive = false',
        '[[terms]]\nname = "Port"\nquery = "port"',
    ]
    lines += [f'[[feeds]]\nname = "{name}"\nurl = "{base}/{name.lower()}.rss"' for name in names]
    path = folder / "watcher.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


async def timed(path: Path) -> tuple[dict[str, float], float]:
    """Seconds until each feed's poll was done, and the event loop's longest stall."""
    config = load_config(path)
    loop = asyncio.get_running_loop()
    done: dict[str, float] = {}
    longest = 0.0

    async def tick() -> None:
        nonlocal longest
        while True:
            before = loop.time()
            await asyncio.sleep(0.02)
            longest = max(longest, loop.time() - before - 0.02)

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    await poll_once(
        config,
        config.feeds,
        on_done=lambda result: done.setdefault(result.feed, time.monotonic() - started),
        workers=2,
    )
    ticker.cancel()
    return done, longest


def stored(folder: Path) -> str:
    """How many of the hostile feed's three entries are in the database."""
    with sqlite3.connect(folder / "watcher.db") as conn:
        count = conn.execute("SELECT COUNT(*) FROM articles WHERE feed = 'Hostile'").fetchone()
    return f"{count[0]} of 3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=8.0, help="size of the hostile title")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    FEEDS["/hostile.rss"] = rss(
        "hostile", "&lt;" * int(args.mb * 250_000), "Bad &#xD800; entry", "Quay wall finished"
    )
    FEEDS["/healthy.rss"] = rss("healthy", "Harbour dredging resumes")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    print(
        "run  healthy alone  healthy beside hostile  hostile done  longest loop stall"
        "  hostile stored"
    )
    try:
        for run in range(1, args.runs + 1):
            with tempfile.TemporaryDirectory() as alone_dir, tempfile.TemporaryDirectory() as both:
                alone, _ = asyncio.run(timed(config_file(Path(alone_dir), base, ["Healthy"])))
                together, stall = asyncio.run(
                    timed(config_file(Path(both), base, ["Hostile", "Healthy"]))
                )
                kept = stored(Path(both))
            hostile = together.get("Hostile", float("nan"))
            print(
                f"{run:>3}  {alone['Healthy']:>11.2f}s  {together['Healthy']:>20.2f}s"
                f"  {hostile:>11.2f}s  {stall:>17.2f}s  {kept:>14}"
            )
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
