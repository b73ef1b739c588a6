"""Polling on schedule under load: 500 feeds, 30% of them failing in different ways.

Runs the real service (`watcher.app.service.serve`: APScheduler, the shared HTTP
client, the store) for --seconds against a web server on 127.0.0.1 that serves
350 healthy RSS feeds (answering 304 once they have been fetched) and 150
that fail: hanging past the fetch deadline, trickling a byte a second, HTTP
500, an HTML page instead of a feed, and a port where nothing listens. Then it
reads the `polls` table and prints, for the healthy feeds, how late each poll
started after it fell due (the previous poll's end plus the interval), and
for the failing ones how often they were tried.

    .venv/bin/python bench/poll_bench.py [--seconds 120] [--interval 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import itertools
import logging
import socket
import statistics
import tempfile
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from watcher.app.service import serve
from watcher.config.load import load_config
from watcher.store import Store

HEALTHY = 350
FAILING = {"hang": 40, "trickle": 30, "error": 30, "html": 25, "refused": 25}
ON_TIME = 5.0  # seconds of lateness that still counts as on schedule (stamps are to the second)


def feed_xml(number: int) -> bytes:
    items = "".join(
        f"<item><title>Bulletin {number}.{item}</title>"
        f'<guid isPermaLink="false">b-{number}-{item}</guid>'
        f"<description>Harbour traffic report {item} from desk {number}.</description></item>"
        for item in range(5)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Desk {number}</title>'
        f"<link>http://127.0.0.1/</link><description>d</description>{items}</channel></rss>"
    ).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        kind, _, number = self.path.strip("/").partition("/")
        if kind == "hang":
            time.sleep(60)
            return
        if kind == "error":
            self.answer(500, b"server error", "text/plain")
        elif kind == "html":
            self.answer(200, b"<html><body><p>Welcome</p></body></html>", "text/html")
        elif kind == "trickle":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(1)
        else:
            etag = f'"{number}"'
            if self.headers.get("If-None-Match") == etag:
                self.answer(304, b"", None, etag)
            else:
                self.answer(200, feed_xml(int(number)), "application/rss+xml", etag)

    def answer(self, status: int, body: bytes, kind: str | None, etag: str | None = None) -> None:
        self.send_response(status)
        if kind:
            self.send_header("Content-Type", kind)
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", email.utils.formatdate(1_790_000_000, usegmt=True))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError):  # the fetcher gave up on a slow answer
            super().handle()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(folder: Path, base: str, interval: int) -> Path:
    lines = [
        "[storage]",
        f'path = "{folder / "watcher.db"}"',
        "[fetch]",
        'timeout = "5s"',
        "per_host = 16",  # every feed is on 127.0.0.1 here; in life they are on many hosts
        "allow_private_addresses = true",
        "[poll]",
        f'interval = "{interval}s"',
        "adaptive = false",
        "[[terms]]",
        'name = "Port"',
        'query = "harbour"',
    ]
    feeds = [(f"ok {n}", f"{base}/ok/{n}") for n in range(HEALTHY)]
    for kind, count in FAILING.items():
        for n in range(count):
            url = (
                f"http://127.0.0.1:{closed_port()}/feed"
                if kind == "refused"
                else f"{base}/{kind}/{n}"
            )
            feeds.append((f"{kind} {n}", url))
    for name, url in feeds:
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"']
    path = folder / "watcher.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


async def run_for(config_path: Path, seconds: float) -> None:
    stop = asyncio.Event()
    service = asyncio.create_task(serve(load_config(config_path), stop))
    await asyncio.sleep(seconds)
    stop.set()
    await service


def report(db: Path, interval: int) -> None:
    with Store.open(db) as store:
        rows = store.db.execute(
            "SELECT feed, started_at, finished_at, status FROM polls ORDER BY feed, started_at"
        ).fetchall()
    polls: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for feed, started, finished, status in rows:
        polls.setdefault(feed, []).append(
            (datetime.fromisoformat(started), datetime.fromisoformat(finished), status)
        )
    lateness = []
    healthy = [name for name in polls if name.startswith("ok ")]
    for name in healthy:
        runs = polls[name]
        for before, after in itertools.pairwise(runs):
            due = before[1] + timedelta(seconds=interval)
            lateness.append((after[0] - due).total_seconds())
    on_time = sum(1 for late in lateness if late <= ON_TIME)
    print(f"healthy feeds polled: {len(healthy)} of {HEALTHY}")
    print(
        f"healthy repeat polls: {len(lateness)}, on schedule (<= {ON_TIME:g} s late): "
        f"{on_time} ({100 * on_time / max(1, len(lateness)):.1f}%)"
    )
    if lateness:
        ordered = sorted(lateness)
        print(
            f"lateness s: median {statistics.median(ordered):.1f}, "
            f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.1f}, max {ordered[-1]:.1f}"
        )
    for kind in FAILING:
        tries = [len(runs) for name, runs in polls.items() if name.startswith(f"{kind} ")]
        failed = all(status == "failed" for name, runs in polls.items()
                     if name.startswith(f"{kind} ") for *_, status in runs)  # fmt: skip
        print(f"{kind:>8}: {len(tries)} feeds tried, {sum(tries)} polls, all failed: {failed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--interval", type=int, default=20)
    args = parser.parse_args()
    logging.getLogger("watcher").setLevel(logging.ERROR)  # a line per failed poll otherwise
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as folder:
        config = write_config(Path(folder), base, args.interval)
        print(
            f"{HEALTHY + sum(FAILING.values())} feeds ({HEALTHY} healthy, "
            f"{sum(FAILING.values())} failing), interval {args.interval} s, "
            f"running the service for {args.seconds:g} s"
        )
        asyncio.run(run_for(config, args.seconds))
        report(Path(folder) / "watcher.db", args.interval)
    server.shutdown()


if __name__ == "__main__":
    main()
