"""Query latency on a large hit database: 1,000,000 articles and 100,000 hits.

Builds a synthetic database once (cached in bench/.cache/, rebuilt with
--rebuild), then opens it as the CLI does (`Store.open`: WAL mode) and times
the queries behind `watcher hits`, `show`, `search`, `stats` and `export`:
the median and p95 of --runs runs after one warm-up, against the 50 ms target
of issue 6.

The articles: --articles spread evenly over the 365 days before the build,
from ~50 feeds (a few percent carried by a second feed, a few percent copies
in another article's story cluster). Their text is generated here: 80-200
words drawn from a Zipf-like vocabulary of common English words and ~30,000
made-up ones, in sentences, with topical words and phrases (lithium, rare
earths, bullet train, antenna, semiconductor...) sprinkled into 0.05-3% of
the articles each, so searches match from a few hundred to tens of thousands.
The hits: --hits on distinct (article, term) pairs over 20 terms of skewed
popularity, found minutes after their article, with a slice of its text as
snippet; about 80% are in sent daily digests of one channel, the rest
undelivered. Not filled: article_bands (no query here reads them; simhash is
random), polls. Fixed seed: every build has the same articles and hits, with
timestamps relative to the moment of the build (kept in a .json beside the
database, so later runs query the same "last 7 days").

    .venv/bin/python bench/query_bench.py [--articles 1000000] [--hits 100000]
        [--runs 21] [--rebuild] [--jobs 1]
    .venv/bin/python bench/query_bench.py --articles 20000 --hits 2000   # quick
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import itertools
import json
import multiprocessing
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from watcher.app.search import search, to_fts
from watcher.config.load import FeedConfig
from watcher.match.terms import compile_term
from watcher.match.words import index_text
from watcher.store import Store, stamp
from watcher.store.records import HitQuery

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
SEED = 20261123
SPAN = timedelta(days=365)
BATCH = 5000  # articles generated and inserted at a time
TARGET_MS = 50.0
CHANNEL = "newsroom"
DELIVERED_SHARE = 0.8
MADE_UP_WORDS = 30_000  # made-up words in the vocabulary

# -- the text generator ------------------------------------------------------

# The most frequent words of news English, most frequent first (our own list).
COMMON = """
the of and to a in that is for on was with said as by it at from he his be
has have are an its not but this were which had will they their been also
who after more or year new one two would about up over than into last first
government minister state people india officials told people percent could
first other some when there all we i out what time three can years week said
under before while between during such them only where however since many
most against country city police company according report market new may
"""
# Words that are parts of the topical phrases, common on their own too.
MIDDLE = """
rare earth train bullet speed high rail project plan trade deal navy ship
power energy water price bank court election board team match minister
chief national public policy security defence data chip radio mast stealth
japan china world region district village farmers workers students crore
"""
SYLLABLES = [
    "ka", "ri", "to", "mu", "sen", "lo", "va", "pe", "dri", "an", "ost", "el",
    "qua", "bo", "ne", "shi", "tar", "um", "ga", "lin", "vor", "de", "pra", "ix",
    "mo", "ren", "tu", "hal", "zi", "ber", "no", "sta", "kel", "fa", "ro", "wen",
]  # fmt: skip


@dataclass(frozen=True)
class Topic:
    rate: float  # share of articles about it
    phrases: tuple[str, ...]  # 1 to 3 of them are put into such an article


TOPICS = [
    Topic(0.006, ("lithium", "rare earths", "rare earth magnets", "critical minerals",
                  "lithium and rare earths", "cobalt", "graphite", "rare earth elements")),
    Topic(0.015, ("lithium", "lithium-ion batteries", "battery storage", "electric vehicles")),
    Topic(0.015, ("semiconductor", "semiconductors", "chipmaking", "chips", "wafer fab")),
    Topic(0.003, ("bullet train", "high-speed rail", "Shinkansen", "MAHSR", "NHSRCL",
                  "bullet train project")),
    Topic(0.0005, ("UNICORN", "Unified Complex Radio Antenna", "stealth mast", "Indian Navy")),
    Topic(0.004, ("antenna", "antennas", "spectrum auction", "radio telescope")),
    Topic(0.01, ("artificial intelligence", "AI", "machine learning", "data centres")),
    Topic(0.0005, ("quantum computing", "quantum", "qubits")),
    Topic(0.003, ("green hydrogen", "electrolysers", "hydrogen")),
    Topic(0.005, ("drones", "drone", "unmanned aerial vehicles")),
    Topic(0.008, ("satellite", "ISRO", "launch vehicle", "orbit")),
    Topic(0.003, ("Quad", "Indo-Pacific", "Quad summit")),
    Topic(0.01, ("tariffs", "trade deal", "import duty", "exports")),
    Topic(0.01, ("monsoon", "rainfall", "cyclone", "floods")),
    Topic(0.03, ("cricket", "Test match", "wicket", "innings")),
    Topic(0.03, ("election", "polling booth", "Election Commission", "voters")),
    Topic(0.002, ("shipbuilding", "shipyard", "warship")),
    Topic(0.005, ("cyber attack", "ransomware", "cybersecurity")),
]  # fmt: skip

# Watch-terms with hits, most popular first, and their skewed popularity.
TERMS = [
    "critical minerals", "semiconductors", "elections", "bullet train", "AI dialogue",
    "UNICORN antenna", "lithium", "rare earths", "Quad", "space", "hydrogen", "drones",
    "tariffs", "monsoon", "cricket", "cyber", "shipbuilding", "quantum", "5G", "ports",
]  # fmt: skip
TERM_WEIGHTS = list(itertools.accumulate(1 / (rank + 1) ** 1.1 for rank in range(len(TERMS))))

SECTIONS = ["National", "Business", "World", "Technology", "Opinion"]


@dataclass(frozen=True)
class Vocabulary:
    words: list[str]
    cumulative: list[float]  # Zipf weights, for random.choices
    feeds: list[str]
    feed_weights: list[float]
    authors: list[str]


_VOCABULARY: Vocabulary | None = None


def vocabulary() -> Vocabulary:
    """The words, feeds and authors (the same every time: fixed seed)."""
    global _VOCABULARY
    if _VOCABULARY is None:
        rng = random.Random(SEED)
        common, middle = COMMON.split(), MIDDLE.split()
        taken = set(common) | set(middle)
        for topic in TOPICS:
            taken.update(index_text(" ".join(topic.phrases)).split())
        made_up: list[str] = []
        seen = set(taken)
        while len(made_up) < MADE_UP_WORDS:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3, 3, 3, 4))))
            if word not in seen:
                seen.add(word)
                made_up.append(word)
        # COMMON first, MIDDLE at ranks ~250-330, then the made-up words.
        words = list(dict.fromkeys([*common, *made_up[:150], *middle, *made_up[150:]]))
        weights = [1 / (rank + 2.7) for rank in range(len(words))]
        outlets = [w.capitalize() for w in made_up[-10:]]
        feeds = [f"{outlet} Times — {section}" for outlet in outlets for section in SECTIONS]
        _VOCABULARY = Vocabulary(
            words=words,
            cumulative=list(itertools.accumulate(weights)),
            feeds=feeds,
            feed_weights=list(itertools.accumulate(1 / (rank + 4) for rank in range(len(feeds)))),
            authors=[
                f"{first.capitalize()} {last.capitalize()}"
                for first, last in zip(made_up[1000:1300], made_up[2000:2300], strict=True)
            ],
        )
    return _VOCABULARY


def sentences(rng: random.Random, words: list[str]) -> str:
    """Words as sentences of 8-20 words: capitalised, some commas, full stops."""
    out = []
    start = 0
    while start < len(words):
        size = rng.randint(8, 20)
        sentence = words[start : start + size]
        start += size
        sentence[0] = sentence[0][:1].upper() + sentence[0][1:]
        if len(sentence) > 6 and rng.random() < 0.5:
            sentence[rng.randrange(2, len(sentence) - 2)] += ","
        out.append(" ".join(sentence) + ".")
    return " ".join(out)


def article_words(rng: random.Random, vocab: Vocabulary) -> tuple[list[str], list[str]]:
    """(title words, text words) of one article, topical phrases put in."""
    text = rng.choices(vocab.words, cum_weights=vocab.cumulative, k=rng.randint(80, 200))
    title = rng.choices(vocab.words, cum_weights=vocab.cumulative, k=rng.randint(6, 12))
    for topic in TOPICS:
        if rng.random() < topic.rate:
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(text) + 1)
                text[at:at] = rng.choice(topic.phrases).split()
            if rng.random() < 0.3:
                at = rng.randrange(len(title) + 1)
                title[at:at] = rng.choice(topic.phrases).split()
    return title, text


@dataclass(frozen=True)
class Batch:
    first: int  # id of the batch's first article
    size: int
    first_hit: int  # id of the batch's first hit
    hits: int
    articles: int  # in the whole database, for the timeline
    now: str  # ISO 8601: the build's moment, the end of the timeline


def moment(batch: Batch, article_id: int) -> datetime:
    """When an article was first seen: evenly spread over the year before `now`."""
    now = datetime.fromisoformat(batch.now)
    return now - SPAN + SPAN * ((article_id - 0.5) / batch.articles)


def generate(batch: Batch) -> dict[str, list[Any]]:
    """The rows of one batch of articles and their hits (deterministic per batch)."""
    rng = random.Random(f"{SEED}:{batch.first}")
    vocab = vocabulary()
    articles, fulltext, feeds, texts = [], [], [], []
    seen_at = []
    for article_id in range(batch.first, batch.first + batch.size):
        title_words, text_words = article_words(rng, vocab)
        title = " ".join(title_words)
        title = title[:1].upper() + title[1:]
        text = sentences(rng, text_words)
        first_seen = moment(batch, article_id)
        seen_at.append(first_seen)
        published = first_seen - timedelta(seconds=rng.randint(60, 6 * 3600))
        feed = vocab.feeds[bisect.bisect(vocab.feed_weights, rng.random() * vocab.feed_weights[-1])]
        host = feed.split(" — ")[0].lower().replace(" ", "")
        summary = rng.random() < 0.15
        cluster = article_id
        if rng.random() < 0.04 and article_id - batch.first > 50:
            cluster = article_id - rng.randint(1, 50)
        slug = "-".join(title_words[:5]).lower()
        articles.append(
            (
                article_id,
                f"{host}:{rng.getrandbits(64):016x}",  # the publisher's guid
                f"https://www.{host}.example/news/{slug}-{article_id}",
                title,
                text,
                "summary" if summary else "page",
                "page fetch failed: HTTP 403" if summary else None,
                rng.choice(vocab.authors) if rng.random() < 0.7 else None,
                "en",
                stamp(published),
                feed,
                stamp(first_seen),
                stamp(first_seen),
                rng.getrandbits(64) - (1 << 63),
                cluster,
            )
        )
        fulltext.append((article_id, index_text(title), index_text(text)))
        feeds.append((article_id, feed, f"{rng.getrandbits(128):032x}", stamp(first_seen)))
        if rng.random() < 0.03:
            other = rng.choice(vocab.feeds)
            if other != feed:
                later = first_seen + timedelta(minutes=rng.randint(5, 180))
                feeds.append((article_id, other, f"{rng.getrandbits(128):032x}", stamp(later)))
        texts.append(text)
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < batch.hits:
        term = bisect.bisect(TERM_WEIGHTS, rng.random() * TERM_WEIGHTS[-1])
        pairs.add((rng.randrange(batch.size), term))
    hits, delivered = [], []
    for hit_id, (offset, term) in enumerate(sorted(pairs), start=batch.first_hit):
        text = texts[offset]
        start = rng.randrange(max(1, len(text) - 240))
        start = text.find(" ", start) + 1
        snippet = text[start : start + 240]
        found = seen_at[offset] + timedelta(minutes=rng.randint(1, 10), seconds=rng.randint(0, 59))
        score = 1 + min(14, int(rng.expovariate(0.35)))
        name = TERMS[term]
        hits.append(
            (
                hit_id,
                batch.first + offset,
                name,
                name,
                snippet,
                float(score),
                stamp(found),
                json.dumps([name]),
                json.dumps([[0, len(name)]]),
            )
        )
        if rng.random() < DELIVERED_SHARE:
            delivered.append((hit_id, stamp(found)))
    return {
        "articles": articles,
        "fulltext": fulltext,
        "feeds": feeds,
        "hits": hits,
        "delivered": delivered,
    }


# -- building the database -----------------------------------------------------


def batches(articles: int, hits: int, now: datetime) -> list[Batch]:
    out = []
    for first in range(1, articles + 1, BATCH):
        size = min(BATCH, articles + 1 - first)
        before = round(hits * (first - 1) / articles)
        after = round(hits * (first - 1 + size) / articles)
        out.append(Batch(first, size, before + 1, after - before, articles, now.isoformat()))
    return out


def generated(specs: list[Batch], jobs: int) -> Iterator[dict[str, list[Any]]]:
    """The batches in order, from `jobs` worker processes, a few at a time (bounded memory)."""
    if jobs <= 0:
        yield from map(generate, specs)
        return
    with multiprocessing.get_context("fork").Pool(jobs, initializer=vocabulary) as pool:
        pending: deque[Any] = deque()
        for spec in specs:
            pending.append(pool.apply_async(generate, (spec,)))
            if len(pending) > 2 * jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def digest_of(found_at: str) -> tuple[str, str]:
    """(id, created_at) of the daily digest that sent a hit: 07:00 UTC the next day."""
    created = datetime.fromisoformat(found_at[:10] + "T07:00:00+00:00") + timedelta(days=1)
    key = hashlib.blake2b(f"{SEED}:{created:%Y-%m-%d}".encode(), digest_size=16).hexdigest()
    return f"msg_{key}", stamp(created) or ""


def build(path: Path, articles: int, hits: int, jobs: int) -> dict[str, Any]:
    """Create the database at `path` (through a .part file); returns its description."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    partial = path.with_name(path.name + ".part")
    for leftover in CACHE.glob(partial.name + "*"):
        leftover.unlink()
    started = time.perf_counter()
    with Store.open(partial) as store:  # the schema, exactly as the application makes it
        store.feeds.sync(
            FeedConfig(feed, f"https://{i}.example/rss", 900.0)
            for i, feed in enumerate(vocabulary().feeds)
        )
        store.outbox.sync_channels([CHANNEL], now - SPAN)
    conn = sqlite3.connect(partial, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")  # build only: a failed build is thrown away
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")  # 400 MB for the key and url indexes
    digests: dict[str, list[Any]] = {}  # id -> [created_at, hits]
    specs = batches(articles, hits, now)
    done = 0
    print(f"building {path.name}: {articles:,} articles, {hits:,} hits, {jobs} worker(s)")
    for rows in generated(specs, jobs):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO articles (id, key, url, title, text, source, note, author, language,"
            " published, feed, first_seen_at, changed_at, simhash, cluster_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows["articles"],
        )
        conn.executemany(
            "INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)", rows["fulltext"]
        )
        conn.executemany(
            "INSERT INTO article_feeds (article_id, feed, fingerprint, first_seen_at)"
            " VALUES (?, ?, ?, ?)",
            rows["feeds"],
        )
        conn.executemany(
            "INSERT INTO hits (id, article_id, term, phrase, snippet, score, found_at, clauses,"
            " highlights) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows["hits"],
        )
        sent = []
        for hit_id, found_at in rows["delivered"]:
            digest_id, created = digest_of(found_at)
            if created <= stamp(now):  # hits found since this morning's digest wait
                digests.setdefault(digest_id, [created, 0])[1] += 1
                sent.append((CHANNEL, hit_id, digest_id))
        conn.executemany(
            "INSERT INTO digest_hits (channel, hit_id, digest_id) VALUES (?, ?, ?)", sent
        )
        conn.execute("COMMIT")
        done += len(rows["articles"])
        if done % 100_000 < BATCH or done == articles:
            elapsed = time.perf_counter() - started
            print(f"  {done:>9,} articles  {done / articles:4.0%}  {elapsed:6.0f} s", flush=True)
    conn.execute("BEGIN")
    if digests:
        conn.executemany(
            "INSERT INTO digests (id, channel, created_at, status, hits, attempts,"
            " next_attempt_at, sent_at) VALUES (?, ?, ?, 'sent', ?, 1, ?, ?)",
            [
                (digest_id, CHANNEL, created, count, created, created[:14] + "01:00+00:00")
                for digest_id, (created, count) in sorted(digests.items())
            ],
        )
        conn.execute("UPDATE channels SET last_run_at = ?", [max(digests.values())[0]])
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")  # as the application leaves it
    conn.close()
    seconds = time.perf_counter() - started
    os.replace(partial, path)
    meta = {
        "articles": articles,
        "hits": hits,
        "now": now.isoformat(),
        "built": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(seconds, 1),
        "bytes": path.stat().st_size,
        "sqlite": sqlite3.sqlite_version,
    }
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"built in {seconds:.0f} s ({seconds / 60:.1f} min), {meta['bytes'] / 1e9:.2f} GB")
    return meta


# -- timing --------------------------------------------------------------------


def timed(run: Callable[[], int], runs: int) -> tuple[float, float, int]:
    """(median ms, p95 ms, rows) of `runs` runs after one warm-up."""
    rows = run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, max(0, -(-95 * len(times) // 100) - 1))]
    return statistics.median(times), p95, rows


Query = tuple[str, Callable[[], int], int | None]  # label, run (returns rows), index matches


def queries(store: Store, now: datetime, path: Path) -> list[Query]:
    archive = store.archive
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    popular, rare = TERMS[0], TERMS[15]
    some_hit = int(store.db.execute("SELECT MAX(id) FROM hits").fetchone()[0]) // 2

    def hits(label: str, query: HitQuery) -> Query:
        return label, lambda: len(archive.hits(query)), None

    def found(text: str, since: datetime | None = None, note: str = "") -> Query:
        """A search, with how many articles its index expression matches (all are ranked)."""
        expression = to_fts(compile_term("search", text).tree)
        matches = store.db.execute(
            "SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH ?", [expression]
        ).fetchone()[0]
        window = "" if since is None else f" --since {(now - since).days}d"
        return (
            f"search {text}{window}{note}",
            lambda: len(search(store, text, since=since, limit=20)),
            int(matches),
        )

    def opened() -> int:
        Store.open(path).close()
        return 0

    return [
        hits(f"hits --term '{popular}' --since 7d", HitQuery(terms=(popular,), since=week)),
        hits(f"hits --term '{rare}' --since 7d", HitQuery(terms=(rare,), since=week)),
        hits(
            "hits --since 30d --min-score 3 --undelivered",
            HitQuery(since=month, min_score=3, delivered=False, limit=100),
        ),
        hits("hits (newest 100)", HitQuery(limit=100)),
        (
            "show HIT (article_of_hit)",
            lambda: int(archive.article_of_hit(some_hit) is not None),
            None,
        ),
        found("lithium"),
        found('"bullet train"'),
        found("=UNICORN"),
        found('"quantum computing"'),
        found('lithium NEAR/10 "rare earth*"'),
        found("semiconductor* OR chip*"),
        found("government", note=" (common word)"),
        found('"rare earth*"', month),
        found("cricket", week),
        ("stats (by day, 30 days)", lambda: len(archive.stats(since=month, by="day")), None),
        (
            "stats --by week (26 weeks)",
            lambda: len(archive.stats(since=now - timedelta(weeks=26), by="week")),
            None,
        ),
        ("Store.open + close (per command)", opened, None),
    ]


def export_rate(store: Store, runs: int) -> tuple[float, int]:
    """(rows per second, rows) of iterating every hit oldest first, best of `runs`."""
    best, rows = float("inf"), 0
    for _ in range(runs):
        start = time.perf_counter()
        rows = sum(1 for _ in store.archive.iter_hits(HitQuery(sort="oldest")))
        best = min(best, time.perf_counter() - start)
    return rows / best, rows


def schema(path: Path) -> set[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        return {(kind, name, " ".join(sql.split())) for kind, name, sql in rows}


def stale(path: Path) -> bool:
    """Whether the cached database's schema differs from what `Store.open` creates today."""
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "fresh.db"
        Store.open(fresh).close()
        return schema(path) != schema(fresh)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--hits", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=21, help="timed runs per query")
    parser.add_argument("--rebuild", action="store_true", help="build the database afresh")
    parser.add_argument(
        "--jobs", type=int, default=1, help="processes generating text while one inserts"
    )
    args = parser.parse_args()
    if args.hits > args.articles * len(TERMS) // 2:
        parser.error("too many hits for that many articles")
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"query-{args.articles}-{args.hits}.db"
    if args.rebuild or not path.exists():
        meta = build(path, args.articles, args.hits, args.jobs)
    else:
        meta = json.loads(path.with_suffix(".json").read_text())
        print(f"reusing {path.relative_to(ROOT)} (built {meta['built']}; --rebuild to redo)")
        if stale(path):
            print("warning: its schema differs from the application's now: --rebuild it")
    now = datetime.fromisoformat(meta["now"])
    size = sum(p.stat().st_size for p in CACHE.glob(path.name + "*"))
    print(
        f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}; "
        f"{meta['articles']:,} articles, {meta['hits']:,} hits, {size / 1e9:.2f} GB on disk, "
        f"built in {meta['build_seconds']:.0f} s; {args.runs} runs per query after a warm-up"
    )
    with Store.open(path) as store:
        results = [
            (label, matches, *timed(run, args.runs))
            for label, run, matches in queries(store, now, path)
        ]
        rate, rows = export_rate(store, max(1, min(args.runs, 3)))
    width = max(len(label) for label, *_ in results)
    print(
        f"{'query':<{width}}  {'rows':>4}  {'index matches':>13}  {'median ms':>9}  {'p95 ms':>6}"
        f"  target {TARGET_MS:g} ms"
    )
    for label, matches, median, p95, count in results:
        verdict = "PASS" if median < TARGET_MS else "MISS"
        ranked = "" if matches is None else f"{matches:,}"
        print(f"{label:<{width}}  {count:>4}  {ranked:>13}  {median:9.1f}  {p95:6.1f}  {verdict}")
    print(f"export (iter_hits, oldest first): {rows:,} hits at {rate:,.0f} hits/s (best of runs)")
    missed = [label for label, _, median, *_ in results if median >= TARGET_MS]
    print(f"{len(results) - len(missed)} of {len(results)} under {TARGET_MS:g} ms", end="")
    print(f"; missed: {', '.join(missed)}" if missed else "")


if __name__ == "__main__":
    main()
