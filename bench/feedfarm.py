"""A feed farm on 127.0.0.1: N feeds of M entries each and their article pages.

Every feed stands for a publisher of its own: feed `i` lives at
`http://n{i}.farm.test/feed.xml` and its articles at
`http://n{i}.farm.test/a/{i}/{j}`. The names are not resolved: `Route` and
`AsyncRoute` (httpx transports) send every request to the farm's one port,
the way /etc/hosts would, and the Host header keeps the name.

Pages are either generated (news-like HTML: navigation, a body of 400-1200
generated words, related links and comments; 1-3 ms to extract) or the real
pages of `../shared/corpus/pages/` served in turn (tens of ms each). A
`planted` fraction of the articles, chosen by the seed, carries a sentence
that one of the seeded watch-terms must catch; `farm.planted` says which, so
a run's recall can be checked. Feeds answer 304 to a matching If-None-Match
or If-Modified-Since, and `latency` delays every answer.

    .venv/bin/python bench/feedfarm.py --feeds 3 --entries 2   # serve until ^C
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import functools
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx

from watcher.sources.extract import extract_page

CORPUS_PAGES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pages"
LAST_MODIFIED = "Mon, 23 Nov 2026 08:00:00 GMT"
PUBLISHED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

# Written for this bench: each sentence is caught by the seeded term it is filed under.
PLANTS = {
    "JWG on critical minerals": [
        "Negotiators said the India-Japan joint working group on critical minerals"
        " would compare stockpile plans at its next session.",
        "A note from the ministry said the Japan-India working group would take up"
        " rare earth refining and battery minerals in the spring.",
    ],
    "India–Japan AI Dialogue": [
        "Delegates at the India-Japan AI Dialogue traded drafts on testing large models.",
        "The second Japan-India Artificial Intelligence Dialogue closed with a plan for"
        " shared evaluation labs.",
    ],
    "UNICORN antenna": [
        "Engineers at the yard fitted the Unified Complex Radio Antenna to the new"
        " frigate before sea trials.",
        "The UNICORN mast, a stealth enclosure for radios and sensors, will go on"
        " three Navy ships first.",
    ],
    "Ahmedabad–Mumbai HSR": [
        "Girders for the Mumbai-Ahmedabad bullet train crossed the river at Surat overnight.",
        "The NHSRCL board signed off the depot contract for the Ahmedabad line on Friday.",
    ],
}

FUNCTION_WORDS = [
    "the",
    "a",
    "of",
    "in",
    "on",
    "for",
    "with",
    "by",
    "and",
    "to",
    "from",
    "after",
    "before",
    "at",
    "as",
    "is",
    "was",
]
COMMON_WORDS = [
    "council",
    "harbour",
    "budget",
    "river",
    "schedule",
    "committee",
    "survey",
    "market",
    "season",
    "district",
    "rainfall",
    "ministry",
    "report",
    "growth",
    "tender",
    "ferry",
    "vendor",
    "school",
    "clinic",
    "bridge",
    "airport",
    "festival",
    "library",
    "courier",
    "dairy",
    "textile",
    "orchard",
    "museum",
    "highway",
    "tariff",
    "pension",
    "auction",
    "grain",
    "cargo",
    "port",
    "route",
    "inspector",
    "mayor",
    "farmers",
    "teachers",
    "residents",
    "drivers",
    "officials",
    "analysts",
    "announced",
    "reviewed",
    "expected",
    "delayed",
    "approved",
    "rejected",
    "extended",
    "opened",
    "closed",
    "doubled",
    "trimmed",
    "measured",
    "counted",
    "planned",
    "funded",
    "repaired",
    "quarterly",
    "regional",
    "annual",
    "local",
    "coastal",
    "northern",
    "rural",
    "urban",
    "early",
    "late",
    "new",
    "old",
    "small",
    "large",
]


def _lexicon(size: int = 4000) -> tuple[list[str], list[float]]:
    """Words and cumulative weights: function words, common words, then made-up names
    (consonant-vowel syllables, so never one of the watch-terms' words), Zipf-weighted."""
    rng = random.Random("lexicon")
    onsets, vowels = "bdfgklmnprstvz", "aeiou"
    names: set[str] = set()
    while len(names) < size:
        syllables = rng.randint(2, 4)
        names.add("".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syllables)))
    words = FUNCTION_WORDS + COMMON_WORDS + sorted(names)
    weights, total = [], 0.0
    for rank, _ in enumerate(words, 1):
        total += (2.0 if rank <= len(FUNCTION_WORDS) else 1.0) / rank**0.8
        weights.append(total)
    return words, weights


WORDS, CUMULATIVE = _lexicon()
SECTIONS = ["Home", "World", "Business", "Sport", "Culture", "Science", "Opinion", "Weather"]


@dataclass(frozen=True)
class Plant:
    """An article carrying a sentence that `term` must catch."""

    feed: int
    entry: int
    term: str


class Farm:
    """The farm's content and its server (a thread running an asyncio loop)."""

    def __init__(
        self,
        feeds: int,
        entries: int,
        *,
        pages: str = "generated",
        seed: int = 1,
        latency: float = 0.0,
        planted: float = 0.1,
    ) -> None:
        if pages not in ("generated", "real"):
            raise ValueError(f"pages must be 'generated' or 'real', not {pages!r}")
        self.feeds, self.entries, self.pages = feeds, entries, pages
        self.seed, self.latency = seed, latency
        self.real = real_pages() if pages == "real" else []
        usable = [plantable(html) for html in self.real]
        rng = random.Random(seed)
        terms = sorted(PLANTS)
        self.planted: dict[tuple[int, int], Plant] = {}
        for feed in range(feeds):
            for entry in range(entries):
                if self.real and not usable[(feed * entries + entry) % len(self.real)]:
                    continue  # a page where no sentence survives extraction
                if rng.random() < planted:
                    term = terms[(feed + entry) % len(terms)]
                    self.planted[feed, entry] = Plant(feed, entry, term)
        self.requests: collections.Counter[str] = collections.Counter()
        self.page_gets: collections.Counter[tuple[int, int]] = collections.Counter()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feedfarm", daemon=True)

    # -- content ---------------------------------------------------------------

    def feed_url(self, feed: int) -> str:
        return f"http://n{feed}.farm.test/feed.xml"

    def page_url(self, feed: int, entry: int) -> str:
        return f"http://n{feed}.farm.test/a/{feed}/{entry}"

    def plant_text(self, feed: int, entry: int) -> str | None:
        plant = self.planted.get((feed, entry))
        if plant is None:
            return None
        choices = PLANTS[plant.term]
        return choices[(feed * 7 + entry) % len(choices)]

    def feed_xml(self, feed: int) -> bytes:
        rng = random.Random(f"{self.seed}/feed/{feed}")
        items = []
        for entry in range(self.entries):
            published = PUBLISHED - timedelta(minutes=37 * entry + feed % 60)
            items.append(
                f"<item><title>{_headline(rng)}</title>"
                f"<link>{self.page_url(feed, entry)}</link>"
                f'<guid isPermaLink="true">{self.page_url(feed, entry)}</guid>'
                f"<pubDate>{format_datetime(published)}</pubDate>"
                f"<description>{_sentence(rng, 18)}</description></item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>Farm desk {feed}</title><link>http://n{feed}.farm.test/</link>"
            f"<description>Generated feed {feed}</description>{''.join(items)}</channel></rss>"
        ).encode()

    def page_html(self, feed: int, entry: int) -> bytes:
        plant = self.plant_text(feed, entry)
        if self.real:
            html = self.real[(feed * self.entries + entry) % len(self.real)]
            return html if plant is None else _planted(html, plant)
        return generated_page(random.Random(f"{self.seed}/page/{feed}/{entry}"), plant)

    # -- serving -----------------------------------------------------------------

    def start(self) -> Farm:
        self._thread.start()
        self._ready.wait(10)
        return self

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> Farm:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=1024)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                target = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                status, extra, body = self._answer(target, headers)
                if self.latency:
                    await asyncio.sleep(self.latency)
                reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}[status]
                fields = "".join(f"{name}: {value}\r\n" for name, value in extra.items())
                fields += f"Content-Length: {len(body)}\r\n"
                writer.write(f"HTTP/1.1 {status} {reason}\r\n{fields}\r\n".encode() + body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def _answer(self, target: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        parts = target.strip("/").split("/")
        host = headers.get("host", "")
        if parts == ["feed.xml"] and host.startswith("n") and host.endswith(".farm.test"):
            feed = int(host[1:].split(".")[0])
            etag = f'"farm-{self.seed}-{feed}-{self.entries}"'
            if (
                headers.get("if-none-match") == etag
                or headers.get("if-modified-since") == LAST_MODIFIED
            ):
                self.requests["feed 304"] += 1
                return 304, {"ETag": etag}, b""
            self.requests["feed 200"] += 1
            return (
                200,
                {
                    "ETag": etag,
                    "Last-Modified": LAST_MODIFIED,
                    "Content-Type": "application/rss+xml; charset=utf-8",
                },
                self.feed_xml(feed),
            )
        if len(parts) == 3 and parts[0] == "a":
            feed, entry = int(parts[1]), int(parts[2])
            self.requests["page"] += 1
            self.page_gets[feed, entry] += 1
            return 200, {"Content-Type": "text/html; charset=utf-8"}, self.page_html(feed, entry)
        self.requests["other"] += 1
        return 404, {}, b"not here"


def real_pages() -> list[bytes]:
    """The corpus's article pages (not the gold files beside them), in a fixed order."""
    paths = sorted(
        path for path in CORPUS_PAGES.glob("*.html") if not path.name.endswith(".expected.html")
    )
    if not paths:
        raise SystemExit(f"no pages in {CORPUS_PAGES}")
    return [path.read_bytes() for path in paths]


def _planted(html: bytes, sentence: str) -> bytes:
    """`html` with `sentence` inside the article body, where trafilatura reads it.

    None of the corpus's markup was written for this, so the place is searched
    for once per page (and cached): after the first words of one of the
    extracted text's longest lines, tried until an extraction keeps a probe
    sentence there. A page with no such place is returned unplanted.
    """
    place = _place(html)
    if place < 0:
        return html
    return html[:place] + b" " + sentence.encode() + b" " + html[place:]


PROBE = "Probe sentence for the farm with the marker word zqxjvbenchmark in it."


@functools.cache
def _place(html: bytes) -> int:
    extracted = extract_page(html, "http://farm.test/")
    lines = sorted((extracted.text if extracted else "").splitlines(), key=len, reverse=True)
    for line in lines[:10]:
        words = line.split()
        head = " ".join(words[:6]) if len(words) > 6 else line[:15]
        if len(head) < 8 or any(c in head for c in "&<>'\""):
            continue
        found = html.find(head.encode("utf-8"))
        if found < 0:
            continue
        place = found + len(head.encode("utf-8"))
        probe = extract_page(
            html[:place] + f" {PROBE} ".encode() + html[place:], "http://farm.test/"
        )
        if probe is not None and "zqxjvbenchmark" in probe.text:
            return place
    return -1


def plantable(html: bytes) -> bool:
    """Whether `_planted` finds a place in `html` for a sentence."""
    return _place(html) >= 0


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choices(WORDS, cum_weights=CUMULATIVE, k=words))
    return text[0].upper() + text[1:] + "."


def _headline(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, cum_weights=CUMULATIVE, k=rng.randint(5, 9))).capitalize()


def generated_page(rng: random.Random, plant: str | None = None) -> bytes:
    """A news page: masthead, navigation, 400-1200 words of body, related links, comments."""
    paragraphs = []
    words = rng.randint(400, 1200)
    while words > 0:
        size = min(words, rng.randint(40, 90))
        sentences = []
        while size > 0:
            length = min(size, rng.randint(8, 22))
            sentences.append(_sentence(rng, length))
            size -= length
        words -= sum(len(s.split()) for s in sentences)
        paragraphs.append(" ".join(sentences))
    if plant is not None:
        where = rng.randrange(len(paragraphs))
        paragraphs[where] += " " + plant
    nav = "".join(f'<li><a href="/{name.lower()}">{name}</a></li>' for name in SECTIONS)
    related = "".join(
        f'<li><a href="/story/{rng.randrange(10**6)}">{_headline(rng)}</a></li>' for _ in range(6)
    )
    comments = "".join(
        f'<div class="comment"><span class="who">reader{rng.randrange(999)}</span>'
        f"<p>{_sentence(rng, rng.randint(6, 20))}</p></div>"
        for _ in range(rng.randint(2, 8))
    )
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    title = _headline(rng)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title} | Farm Gazette</title>"
        f"<meta property='og:title' content='{title}'>"
        "<meta name='author' content='Farm Desk'>"
        "<meta property='article:published_time' content='2026-11-23T08:00:00Z'>"
        "<link rel='stylesheet' href='/site.css'></head><body>"
        f"<header><div class='masthead'>Farm Gazette</div><nav><ul>{nav}</ul></nav></header>"
        f"<main><article><h1>{title}</h1><div class='byline'>By Farm Desk</div>"
        f"<div class='article-body'>{body}</div></article>"
        f"<aside class='related'><h2>Related</h2><ul>{related}</ul></aside>"
        f"<section class='comments'><h2>Comments</h2>{comments}</section></main>"
        "<footer><p>Farm Gazette, a generated newspaper for benchmarks.</p>"
        f"<ul>{nav}</ul></footer></body></html>"
    ).encode()


class Route(httpx.BaseTransport):
    """Sends every request to the farm's port, keeping the Host header (sync clients)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(host="127.0.0.1", port=self.port)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class AsyncRoute(httpx.AsyncBaseTransport):
    """Sends every request to the farm's port, keeping the Host header (async clients)."""

    def __init__(self, port: int, connections: int = 16) -> None:
        self.port = port
        self._inner = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(host="127.0.0.1", port=self.port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--pages", choices=["generated", "real"], default="generated")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    args = parser.parse_args()
    with Farm(
        args.feeds, args.entries, pages=args.pages, seed=args.seed, latency=args.latency
    ) as farm:
        print(f"serving on 127.0.0.1:{farm.port}; feed 0 is {farm.feed_url(0)}")
        print(f"curl -H 'Host: n0.farm.test' http://127.0.0.1:{farm.port}/feed.xml")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
