"""Real-world feeds and pages from ../shared/corpus: nothing crashes, and how much comes through."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from conftest import CORPUS, LoopbackInternet, Site, write_config
from watcher.app.oneshot import poll_once
from watcher.config.load import load_config
from watcher.sources.extract import extract_page
from watcher.store import Store

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not checked out"),
]

FEEDS = sorted((CORPUS / "feeds").glob("*.xml"))
PAGES = sorted(p for p in (CORPUS / "pages").glob("*.html") if ".expected." not in p.name)


def test_every_corpus_feed_is_polled_without_crashing(site: Site, tmp_path: Path) -> None:
    for feed in FEEDS:
        site.put(f"/feeds/{feed.name}", feed.read_bytes(), "application/xml")
    config = load_config(
        write_config(tmp_path, [(feed.stem, f"{site.base}/feeds/{feed.name}") for feed in FEEDS])
    )

    # Article links point at the real publishers; the mocked internet answers them with 404s,
    # so every entry falls back to its feed text.
    results = asyncio.run(
        poll_once(config, config.feeds, workers=0, transport=LoopbackInternet(site))
    )

    print("\nfeed", "status", "entries", "new", sep="\t")
    for result in results:
        print(result.feed[:50], result.status, result.entries, result.new_articles, sep="\t")
    assert len(results) == len(FEEDS) == 31
    assert [r.feed for r in results if r.failed] == []
    with Store.open(config.db_path) as store:
        stored = store.count("articles")
    assert stored == sum(r.new_articles for r in results)
    assert stored > 500


def test_corpus_pages_yield_article_text() -> None:
    lengths = {}
    for page in PAGES:
        extracted = extract_page(page.read_bytes(), "https://example.org/")
        lengths[page.name] = len(extracted.text) if extracted else 0

    print(f"\n{sum(1 for n in lengths.values() if n)} of {len(PAGES)} pages gave text")
    for name, length in lengths.items():
        print(f"{length:7d}  {name}")
    assert len(PAGES) == 33
    assert all(length > 0 for length in lengths.values())


def test_corpus_pages_keep_their_gold_sentences_and_drop_boilerplate() -> None:
    """trafilatura's own gold: snippets that must be in the text, and some that must not."""
    kept = dropped = wanted = unwanted = 0
    for gold_file in sorted((CORPUS / "pages").glob("*.gold.json")):
        gold = json.loads(gold_file.read_text(encoding="utf-8"))
        page = gold_file.with_name(gold_file.name.replace(".gold.json", ".html"))
        extracted = extract_page(page.read_bytes(), gold.get("url") or "https://example.org/")
        text = " ".join((extracted.text if extracted else "").split())
        title = extracted.title if extracted and extracted.title else ""
        for snippet in gold.get("with", []):
            wanted += 1
            kept += " ".join(snippet.split()) in f"{title} {text}"
        for snippet in gold.get("without", []):
            unwanted += 1
            dropped += " ".join(snippet.split()) not in text
    print(f"\nkept {kept}/{wanted} gold snippets, dropped {dropped}/{unwanted} boilerplate ones")
    assert wanted > 0 and unwanted > 0
    assert kept / wanted >= 0.9
    assert dropped / unwanted >= 0.9
