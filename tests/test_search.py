"""Full-text search: the query translation, and the index kept in step by the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watcher.app.poll import STORIES, to_store
from watcher.app.search import search, to_fts
from watcher.errors import QueryError
from watcher.match.query import parse, resolve_aliases
from watcher.models import Article, Entry, Match
from watcher.store import Storage, Store, fulltext, open_storage

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "expression"),
    [
        ("lithium", '"lithium"'),
        ('"rare earth*"', '"rare earth" *'),
        ("=UNICORN", '"unicorn"'),  # the index has no case: the matcher checks it
        ("cobalt OR nickel", '("cobalt" OR "nickel")'),
        ("cobalt nickel", '("cobalt" AND "nickel")'),
        ("lithium AND NOT battery", '"lithium"'),  # absence is checked on the candidates
        ('"rare earth*" NEAR/5 Japan', 'NEAR("rare earth" * "japan", 7)'),
        ("(mast OR antenna) NEAR/3 stealth", '(("mast" OR "antenna") AND "stealth")'),
        ("title:lithium", '{title} : ("lithium")'),
        ('"U.S. Navy"', '"u s navy"'),
        ('"東京都"', '"東 京 都"'),
        ("ＵＮＩＣＯＲＮ", '"unicorn"'),
        ('"AI Dialogue"~2', 'NEAR("ai" "dialogue", 4)'),
        ('"rare earth*"~1', 'NEAR("rare" "earth" *, 3)'),
        ("cobalt /s nickel", '("cobalt" AND "nickel")'),
        ("cobalt NEAR/p nickel", '("cobalt" AND "nickel")'),
        ("cobalt ONEAR/3 nickel", 'NEAR("cobalt" "nickel", 5)'),
    ],
)
def test_queries_become_fts5_expressions(query: str, expression: str) -> None:
    assert to_fts(parse(query)) == expression


ENTRY = Entry(
    key="wire.example|42",
    url="https://wire.example/42",
    link="https://wire.example/42",
    title="Port talks in Yokohama",
    summary="",
    published=NOW,
    updated=None,
)


def article(title: str, text: str) -> Article:
    return Article(url=ENTRY.url, title=title, text=text, source="page", published=NOW)


@pytest.fixture
def store(storage: Storage) -> Storage:
    """A fresh store on each backend."""
    return storage


def save(
    store: Storage,
    title: str,
    text: str,
    entry: Entry = ENTRY,
    matches: tuple[Match, ...] = (),
    now: datetime = NOW,
    feed: str = "Wire",
) -> int:
    item = to_store(entry, article(title, text), title + text, matches)
    store.articles.save(feed, [item], now, STORIES)
    stored = store.articles.lookup(feed, entry)
    assert stored is not None
    return stored.article_id


def found(store: Storage, query: str) -> list[str]:
    return [result.title for result in search(store, query)]


def test_the_index_follows_inserts_updates_and_pruning(store: Storage) -> None:
    save(store, "Port talks in Yokohama", "東京都の港湾局は lithium の輸送を検討している。")
    assert found(store, "lithium") == ["Port talks in Yokohama"]
    assert found(store, '"港湾"') == ["Port talks in Yokohama"]  # inside a run of kanji

    save(store, "Port talks end in Osaka", "Cobalt shipments were agreed instead.")
    assert found(store, "lithium") == []
    assert found(store, '"港湾"') == []
    assert found(store, "cobalt") == ["Port talks end in Osaka"]
    assert found(store, "title:Osaka") == ["Port talks end in Osaka"]

    pruned = store.retention.prune(articles_before=NOW + timedelta(days=1), polls_before=None)
    assert (pruned.articles, found(store, "cobalt")) == (1, [])
    store.fulltext.check()


def test_a_search_finds_words_with_marks_and_full_width_letters(store: Storage) -> None:
    save(store, "Rail link", "नई दिल्ली में बैठक हुई। The ＵＮＩＣＯＲＮ mast was shown.")

    assert found(store, '"दिल्ली"') == ["Rail link"]
    assert found(store, "=UNICORN") == ["Rail link"]
    assert found(store, "=Unicorn") == []  # case-sensitive, checked by the matcher


def test_a_search_takes_slop_sentence_scope_and_aliases(store: Storage) -> None:
    save(store, "Talks", "Japan and India opened an AI strategic dialogue. Cobalt came later.")
    aliases = resolve_aliases({"pair": "India ONEAR/3 Japan OR Japan ONEAR/3 India"})

    assert found(store, '"AI Dialogue"~1') == ["Talks"]
    assert found(store, '"AI Dialogue"~0') == []
    assert found(store, "Japan /s dialogue") == ["Talks"]
    assert found(store, "Japan /s cobalt") == []
    assert [r.title for r in search(store, "@pair /s AI", aliases=aliases)] == ["Talks"]


def test_pruning_keeps_every_copy_of_a_story_with_a_hit(store: Storage) -> None:
    hit = Match(term="Ports", phrase="port", snippet="port", score=1.0, count=1, in_title=True)
    copy = Entry(key="other.example|7", url="https://other.example/7", link=None, title="",
                 summary="", published=NOW, updated=None)  # fmt: skip
    alone = Entry(key="third.example|9", url="https://third.example/9", link=None, title="",
                  summary="", published=NOW, updated=None)  # fmt: skip
    first = save(store, "Port deal signed", "Cranes and berths.", matches=(hit,))
    second = save(store, "Port deal is signed", "Cranes and berths too.", entry=copy)
    save(store, "Unrelated weather", "Rain in the north.", entry=alone)
    # Two ids in the SQL itself: a statement without parameters reads alike on both backends.
    store.db.execute(f"UPDATE articles SET cluster_id = {first} WHERE id = {second}")

    pruned = store.retention.prune(articles_before=NOW + timedelta(days=1), polls_before=None)

    assert pruned.articles == 1
    assert sorted(found(store, "cranes")) == ["Port deal is signed", "Port deal signed"]
    assert found(store, "rain") == []


def test_rebuilding_the_index_gives_the_same_results(tmp_path: Path) -> None:
    """SQLite's index emptied behind the store's back (PostgreSQL's: see the differential
    test, which rebuilds it)."""
    with Store.open(tmp_path / "watcher.db") as store:
        save(store, "Port talks in Yokohama", "Lithium and cobalt shipments.")
        store.db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('delete-all')")
        assert found(store, "cobalt") == []

        assert store.fulltext.rebuild() == 1
        assert found(store, "cobalt") == ["Port talks in Yokohama"]
        store.fulltext.check()


def entry(number: int) -> Entry:
    url = f"https://wire.example/{number}"
    return Entry(key=url, url=url, link=url, title="", summary="", published=NOW, updated=None)


def test_since_until_and_feeds_narrow_a_search(store: Storage) -> None:
    for day, feed in [(1, "Wire"), (5, "Desk"), (9, "Wire")]:
        save(store, f"Lithium day {day}", "Lithium prices.", entry(day),
             now=NOW + timedelta(days=day), feed=feed)  # fmt: skip

    def titles(**narrow: object) -> list[str]:
        return sorted(result.title for result in search(store, "lithium", **narrow))  # type: ignore[arg-type]

    assert titles(since=NOW + timedelta(days=5)) == ["Lithium day 5", "Lithium day 9"]
    assert titles(until=NOW + timedelta(days=5)) == ["Lithium day 1"]
    assert titles(since=NOW + timedelta(days=10)) == []
    assert titles(feeds=["Wire"]) == ["Lithium day 1", "Lithium day 9"]
    assert titles(feeds=["Desk"], until=NOW + timedelta(days=9)) == ["Lithium day 5"]


def test_a_broad_search_ranks_only_the_newest_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite ranks its newest RANKED matches by bm25; PostgreSQL has no such window."""
    monkeypatch.setattr(fulltext, "RANKED", 2)
    with Store.open(tmp_path / "watcher.db") as store:
        for day in (1, 2, 3):
            save(store, f"Lithium day {day}", "Lithium.", entry(day), now=NOW + timedelta(days=day))

        assert sorted(found(store, "lithium")) == ["Lithium day 2", "Lithium day 3"]


def test_a_query_with_nothing_to_look_up_is_refused(store: Storage) -> None:
    with pytest.raises(QueryError):
        search(store, "lithium AND NOT")


# The differential test: the same articles in both stores, the same queries.
CORPUS = [
    ("Rare earth talks", "India and Japan met on rare earths and critical minerals in Tokyo."),
    ("Mast transfer", "Japan will transfer the UNICORN mast (Unified Complex Radio Antenna)."),
    ("Bullet train", "The Mumbai-Ahmedabad high-speed rail line reached a river bridge."),
    ("AI talks", "The India-Japan AI Dialogue opened with a session on safety."),
    ("東京の会合", "日印の重要鉱物に関する作業部会が東京都で開かれた。"),
    ("दिल्ली बैठक", "नई दिल्ली में भारत और जापान के बीच खनिज पर बैठक हुई।"),
    ("Weather", "Rain is expected along the coast, with strong winds at sea."),
    ("Startup unicorns", "Three startups became unicorns this quarter in Bengaluru."),
]
QUERIES = [
    "lithium", "rare earth*", '"rare earth*"', "=UNICORN", "unicorn*", "mast OR antenna",
    "India Japan", "Japan NEAR/5 minerals", '"AI Dialogue"~2', "title:talks", '"東京"',
    '"重要 鉱物"', "東京都", '"दिल्ली"', "खनिज", "rail AND NOT rain", "India /s Japan",
    "(mast OR antenna) NEAR/3 stealth", "coast*", "Mumbai ONEAR/3 Ahmedabad",
]  # fmt: skip


@pytest.mark.slow
def test_both_backends_find_the_same_articles_for_every_query(
    tmp_path: Path, postgres_url: str
) -> None:
    stores = [Store.open(tmp_path / "watcher.db"), open_storage(postgres_url)]
    try:
        for backend in stores:
            for number, (title, text) in enumerate(CORPUS):
                save(backend, title, text, entry(number))
        assert stores[1].fulltext.rebuild() == len(CORPUS)  # a rebuild finds the same too
        for query in QUERIES:
            on_sqlite, on_postgres = (sorted(found(backend, query)) for backend in stores)
            assert on_sqlite == on_postgres, query
        assert sum(bool(found(stores[0], query)) for query in QUERIES) >= 15  # most find some
    finally:
        for backend in stores:
            backend.close()
