"""The yardstick: the simplest sequential program that does watcher's job.

One feed after another: GET it (conditionally, with the ETag it gave last
time), parse it with feedparser, and for each entry not seen before GET its
page, extract the text with trafilatura, look for each term's keywords as
substrings of the lowercased text, and insert the article and its hits with
sqlite3, committing once per feed. No concurrency, no worker processes.

`bench/run.py` runs it against the feed farm beside watcher; on its own:

    .venv/bin/python bench/baseline.py DB FEED_URL... --port PORT   # a farm's port
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Sequence

import feedparser
import httpx
import trafilatura

# What a user of a plain keyword alert would type for the four seeded terms.
KEYWORDS = {
    "JWG on critical minerals": ["joint working group", "japan-india working group"],
    "India–Japan AI Dialogue": ["india-japan ai dialogue", "artificial intelligence dialogue"],
    "UNICORN antenna": ["unified complex radio antenna", "unicorn mast", "unicorn antenna"],
    "Ahmedabad–Mumbai HSR": ["bullet train", "nhsrcl", "high-speed rail"],
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT);
CREATE TABLE IF NOT EXISTS articles (url TEXT PRIMARY KEY, feed TEXT, title TEXT, text TEXT);
CREATE TABLE IF NOT EXISTS hits (url TEXT, term TEXT, PRIMARY KEY (url, term));
"""


def poll_all(db: sqlite3.Connection, client: httpx.Client, feeds: Sequence[str]) -> int:
    """One cycle over `feeds`; returns the number of new articles stored."""
    stored = 0
    for feed_url in feeds:
        row = db.execute("SELECT etag, last_modified FROM feeds WHERE url = ?", (feed_url,))
        etag, modified = row.fetchone() or (None, None)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        try:
            response = client.get(feed_url, headers=headers)
        except httpx.HTTPError as exc:
            print(f"{feed_url}: {exc}")
            continue
        if response.status_code != 200:
            continue
        parsed = feedparser.parse(response.content)
        for entry in parsed.entries:
            link = entry.get("link")
            if not link or db.execute("SELECT 1 FROM articles WHERE url = ?", (link,)).fetchone():
                continue
            title = entry.get("title", "")
            text = entry.get("summary", "")
            try:
                page = client.get(link)
                if page.status_code == 200:
                    text = trafilatura.extract(page.content, url=link) or text
            except httpx.HTTPError as exc:
                print(f"{link}: {exc}")
            db.execute(
                "INSERT INTO articles (url, feed, title, text) VALUES (?, ?, ?, ?)",
                (link, feed_url, title, text),
            )
            lowered = f"{title}\n{text}".lower()
            for term, words in KEYWORDS.items():
                if any(word in lowered for word in words):
                    db.execute("INSERT INTO hits (url, term) VALUES (?, ?)", (link, term))
            stored += 1
        db.execute(
            "INSERT OR REPLACE INTO feeds (url, etag, last_modified) VALUES (?, ?, ?)",
            (feed_url, response.headers.get("etag"), response.headers.get("last-modified")),
        )
        db.commit()
    return stored


def hits(db: sqlite3.Connection) -> set[tuple[str, str]]:
    """(article URL, term) of every stored hit."""
    return set(db.execute("SELECT url, term FROM hits"))


def connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    return db


def main() -> None:
    from feedfarm import Route  # bench/ is on the path when run as a script

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db")
    parser.add_argument("feeds", nargs="+")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with httpx.Client(transport=Route(args.port), timeout=20) as client:
        db = connect(args.db)
        print(f"{poll_all(db, client, args.feeds)} new articles")


if __name__ == "__main__":
    main()
