"""Spans: where the parts of a query match in an article's title and text.

Evaluating a query (`watcher.match.terms`) tells for each part whether it matched
and the spans of words where; NEAR (`watcher.match.near`) compares the spans of its
two sides, and a `Match` is explained from the spans of the whole query.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watcher.errors import QueryCostError
from watcher.match.folded import FoldedWords
from watcher.match.words import Words

TITLE, TEXT = 0, 1
Fields = tuple[FoldedWords | Words, FoldedWords | Words]  # an article's title and text


# Not frozen: a frozen dataclass is several times slower to make (bench/micro_bench.py),
# and articles with 1000 terms make thousands. Never changed once made.
@dataclass(order=True, unsafe_hash=True, slots=True)
class Span:
    """Where a query part matched: a run of words in the title or the text."""

    place: int  # TITLE or TEXT
    start: int  # position of the first word (see `FoldedWords` and `Words`)
    end: int  # position just past the last word
    clause: str = field(compare=False)
    size: int = field(compare=False)  # words


@dataclass(slots=True)
class Found:
    """Whether a query part matched, and where (unless not asked)."""

    ok: bool
    spans: list[Span]
    closeness: float = 0.0  # NEAR pairs, each worth up to 1 the closer they are


NOT_FOUND = Found(False, [])  # never changed
FOUND = Found(True, [])  # nor this: matched, no places (NOT, or `spans` not wanted)


# Work one query may do on one text (`Budget`): places of its words looked at and
# places NEAR compares, weighted by what each costs (see `watcher.match.terms._spend_places`
# and `watcher.match.near.pairs`); 2,000,000 units take 1-2 s. The seeded terms spend at
# most ~15,000 on 5 MB of news text, `the*` ~230,000; 40 chained NEAR/100 on a word
# found everywhere would take billions. Figures: bench/README.md (cost_bench.py).
WORK_BUDGET = 2_000_000


class Budget:
    """What is left of a query's work budget on one text; `spend` past it raises
    `QueryCostError`."""

    __slots__ = ("left",)

    def __init__(self, units: int = WORK_BUDGET) -> None:
        self.left = units

    def spend(self, units: int) -> None:
        self.left -= units
        if self.left < 0:
            raise QueryCostError(
                f"query too costly: over {WORK_BUDGET:,} places found and compared on one text"
                " (a word found everywhere, NEAR chained on it, or many wildcards)"
            )
