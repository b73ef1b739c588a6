"""Matching throughput: MB of article text per second with 1, 10, 100 and 1000 terms.

The texts are the article texts trafilatura extracts from the real news pages
in ../shared/corpus/pages (read at run time, never copied into the project),
repeated to the requested size. Terms beyond the four seeded ones are
generated from that vocabulary, as watch-terms name specific things: words
found in at most three of the pages, in phrases, OR-groups with a wildcard,
NEAR pairs and AND NOT exclusions (fixed seed, so runs compare).

    .venv/bin/python bench/match_bench.py [--mb 4] [--repeat 15]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

from watcher.config.load import load_config
from watcher.match.terms import Matcher, Term, compile_term
from watcher.match.words import split
from watcher.sources.extract import extract_page

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT.parent / "shared" / "corpus" / "pages"


def articles() -> list[tuple[str, str]]:
    found = []
    for page in sorted(PAGES.glob("*.html")):
        if ".expected." in page.name:
            continue
        extracted = extract_page(page.read_bytes(), "https://example.org/")
        if extracted:
            found.append((extracted.title or "", extracted.text))
    return found


def repeated(texts: list[tuple[str, str]], megabytes: float) -> list[tuple[str, str]]:
    if not texts:  # with nothing to repeat, the loop below would never end
        raise SystemExit(f"no article text in {PAGES}: it needs ../shared beside the checkout")
    out = []
    total = 0
    while total < megabytes * 1_000_000:
        for title, text in texts:
            out.append((title, text))
            total += len(title.encode()) + len(text.encode())
    return out


SYLLABLES = ["ka", "ri", "to", "mu", "sen", "lo", "va", "pe", "dri", "an", "ost", "el", "qua"]
REAL_SHARE = 0.05  # share of term words that occur in the texts at all


def generated_terms(rng: random.Random, texts: list[tuple[str, str]], count: int) -> list[Term]:
    """Terms naming specific things: mostly names absent from these texts, and with
    probability REAL_SHARE a word found in only 1 to 3 of the articles, so that each
    term matches a small share of articles, as real watch-terms do."""
    pages_with: Counter[str] = Counter()
    for title, text in texts:
        pages_with.update({w.lower() for w in split(f"{title} {text}") if w.isalpha()})
    rare = sorted(w for w, n in pages_with.items() if 1 <= n <= 3 and len(w) > 3)
    common = sorted(w for w, n in pages_with.items() if n > 10 and len(w) > 3)

    def name() -> str:
        if rng.random() < REAL_SHARE:
            return rng.choice(rare)
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 5)))

    shapes = [
        lambda: f'"{name()} {name()}"',
        lambda: f"{name()} OR {name()[:5]}*",
        lambda: f"{name()} NEAR/5 ({name()} OR {rng.choice(common)})",
        lambda: f"{name()} AND NOT {rng.choice(common)}",
    ]
    return [compile_term(f"g{i}", rng.choice(shapes)()) for i in range(count)]


def throughput(
    term_sets: list[list[Term]], corpus: list[tuple[str, str]], repeat: int
) -> list[tuple[float, int]]:
    """MB/s and matches for each set of terms: the fastest of `repeat` passes over the corpus.

    The sets take turns pass by pass, so that load from elsewhere on a shared
    machine falls on all of them alike, not on one line of the table.
    """
    matchers = [Matcher(terms) for terms in term_sets]
    size = sum(len(title.encode()) + len(text.encode()) for title, text in corpus)
    for matcher in matchers:
        for title, text in corpus[:50]:  # warm the word-form cache, as a running service has
            matcher.match(title, text)
    fastest = [float("inf")] * len(matchers)
    found = [0] * len(matchers)
    for _ in range(repeat):
        for index, matcher in enumerate(matchers):
            start = time.perf_counter()
            found[index] = sum(len(matcher.match(title, text)) for title, text in corpus)
            # The fastest pass: slower ones measure other load, not the code.
            fastest[index] = min(fastest[index], time.perf_counter() - start)
    return [(size / 1e6 / seconds, n) for seconds, n in zip(fastest, found, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=4.0, help="MB of text to match")
    parser.add_argument("--repeat", type=int, default=15, help="passes per figure (best)")
    args = parser.parse_args()
    rng = random.Random(20261123)
    texts = articles()
    corpus = repeated(texts, args.mb)
    seeded = list(load_config(ROOT / "config" / "watcher.toml").terms)
    extra = generated_terms(rng, texts, 1000)
    print(f"python {sys.version.split()[0]}; {len(texts)} real articles repeated to ", end="")
    print(f"{args.mb:g} MB ({len(corpus)} texts); best of {args.repeat} passes, taking turns")
    print(f"{'terms':>8}  {'MB/s':>6}  {'vs 1 term':>9}  {'matches':>8}")
    lines = [
        ("1", extra[:1]),
        ("4 seeded", seeded),
        ("10", extra[:10]),
        ("100", extra[:100]),
        ("1000", extra[:1000]),
    ]
    figures = throughput([terms for _, terms in lines], corpus, args.repeat)
    base = figures[0][0]
    for (label, _), (speed, found) in zip(lines, figures, strict=True):
        print(f"{label:>8}  {speed:6.1f}  {speed / base:9.0%}  {found:8d}")


if __name__ == "__main__":
    main()
