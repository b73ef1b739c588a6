"""Each term's precision and recall as the stored judgements tell them (issue 19, item 6).

Precision: of a term's hits judged, the share judged relevant (or important).
Recall: of the articles known to be relevant for a term (its hits judged
relevant, and articles a search found that it missed, judged relevant with
`judge_article`), the share it hit. Recall is only given for a term with at
least one judged article it did not hit: without one, nobody looked for its
misses. `watcher terms eval --judged` and the web desk show these figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from watcher.store import Storage


@dataclass(frozen=True)
class JudgedScore:
    """One term's judgements, counted, and what they say of it."""

    term: str
    relevant: int  # its hits judged relevant or important
    not_relevant: int  # its hits judged not relevant
    missed: int  # articles it did not hit, judged relevant or important for it
    passed: int  # articles it did not hit, judged not relevant for it (rightly left out)
    important: int = 0  # of `relevant`, those judged important

    @property
    def judged(self) -> int:
        """Its hits that were judged: what precision rests on."""
        return self.relevant + self.not_relevant

    @property
    def precision(self) -> float | None:
        return self.relevant / self.judged if self.judged else None

    @property
    def recall(self) -> float | None:
        """None until an article the term did not hit was judged for it, and while no
        relevant article is known."""
        if (not self.missed and not self.passed) or not self.relevant + self.missed:
            return None
        return self.relevant / (self.relevant + self.missed)


def judged_scores(store: Storage, term_order: Sequence[str] = ()) -> list[JudgedScore]:
    """Every judged term's score: terms of `term_order` first, in that order, then by name."""
    counts: dict[str, dict[tuple[str, bool], int]] = {}
    with store.translated():
        for row in store.marks.judged_counts():
            counts.setdefault(row.term, {})[(row.verdict, row.hit)] = row.count
    rank = {term: index for index, term in enumerate(term_order)}
    scores = []
    for term in sorted(counts, key=lambda name: (rank.get(name, len(rank)), name)):
        seen = counts[term]
        important = seen.get(("important", True), 0)
        scores.append(
            JudgedScore(
                term=term,
                relevant=seen.get(("relevant", True), 0) + important,
                not_relevant=seen.get(("not_relevant", True), 0),
                missed=seen.get(("relevant", False), 0) + seen.get(("important", False), 0),
                passed=seen.get(("not_relevant", False), 0),
                important=important,
            )
        )
    return scores
