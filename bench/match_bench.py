"""Matching throughput: MB of article text per second with 1, 10, 100 and 1000 terms.

Texts are generated (a fixed seed, a Zipf-like vocabulary of invented words
plus the words the seeded terms use), so runs are comparable. The terms beyond
the four seeded ones are generated queries over rarer vocabulary, as real
watch-terms name specific things: phrases, OR-groups, NEAR and NOT.

    .venv/bin/python bench/match_bench.py [--mb 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

from watcher.config import load_config
from watcher.terms import Matcher, Term, compile_term

ROOT = Path(__file__).resolve().parent.parent
SYLLABLES = "ka ri to mu sen lo va pe dri an ost el ur ni qua bel tor fen gas hu".split()
SEEDED_WORDS = (
    "India Japan joint working group critical minerals rare earths JWG AI Dialogue "
    "Unified Complex Radio Antenna UNICORN mast Navy Mumbai Ahmedabad high-speed rail "
    "bullet train MAHSR NHSRCL Shinkansen startup unicorn"
).split()


def vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))))
    return sorted(words)


def texts(rng: random.Random, vocab: list[str], megabytes: float) -> list[tuple[str, str]]:
    """(title, text) pairs of about 4 kB each, Zipf-distributed words, some seeded words."""
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    out = []
    total = 0
    while total < megabytes * 1_000_000:
        words = rng.choices(vocab, weights, k=600)
        for _ in range(rng.randint(0, 6)):
            words.insert(rng.randrange(len(words)), rng.choice(SEEDED_WORDS))
        sentences = [" ".join(words[i : i + 15]).capitalize() + "." for i in range(0, 600, 15)]
        text = " ".join(sentences)
        out.append((" ".join(words[:8]).title(), text))
        total += len(text.encode())
    return out


def generated_terms(rng: random.Random, vocab: list[str], count: int) -> list[Term]:
    rare = vocab[len(vocab) // 4 :]
    shapes = [
        lambda: f'"{rng.choice(rare)} {rng.choice(rare)}"',
        lambda: f"{rng.choice(rare)} OR {rng.choice(rare)}*",
        lambda: f"{rng.choice(rare)} NEAR/5 ({rng.choice(rare)} OR {rng.choice(rare)})",
        lambda: f"{rng.choice(rare)} AND NOT {rng.choice(vocab)}",
    ]
    return [compile_term(f"g{i}", rng.choice(shapes)()) for i in range(count)]


def throughput(terms: list[Term], corpus: list[tuple[str, str]], repeat: int) -> tuple[float, int]:
    matcher = Matcher(terms)
    size = sum(len(title.encode()) + len(text.encode()) for title, text in corpus)
    runs = []
    found = 0
    for _ in range(repeat):
        start = time.perf_counter()
        found = sum(len(matcher.match(title, text)) for title, text in corpus)
        runs.append(time.perf_counter() - start)
    return size / 1e6 / statistics.median(runs), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=4.0, help="MB of text to match")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()
    rng = random.Random(20261123)
    vocab = vocabulary(rng, 20_000)
    corpus = texts(rng, vocab, args.mb)
    seeded = list(load_config(ROOT / "config" / "watcher.toml").terms)
    extra = generated_terms(rng, vocab, 1000)
    print(f"python {sys.version.split()[0]}, {len(corpus)} texts, {args.mb:g} MB, median of {args.repeat}")
    print(f"{'terms':>6}  {'MB/s':>7}  {'vs 1 term':>9}  {'matches':>8}")
    base = None
    for label, terms in [
        ("1", extra[:1]),
        ("4 seeded", seeded),
        ("10", extra[:10]),
        ("100", extra[:100]),
        ("1000", extra[:1000]),
    ]:
        speed, found = throughput(terms, corpus, args.repeat)
        base = base or speed
        print(f"{label:>8}  {speed:7.1f}  {speed / base:8.0%}  {found:8d}")


if __name__ == "__main__":
    main()
