"""Judging watch-terms on a folder of labelled texts: precision and recall per term.

A labelled text is a file `NNN.txt` (any name ending in .txt; the number
decides its part) holding header lines, a line `---`, then the body:

    title: <headline>
    lang: en
    expect: <the names of the terms that must match, separated by ", "; nothing for none>
    note: <what the case tests>
    ---
    <body>

Only `expect:` is required. A term listed must match the text; a term not
listed must not. The split into parts is fixed: a text is **held out** when
its file number is divisible by 3 (003, 006, ...), else it is in the
**tuning** part (a name that does not start with a number is tuning too).
Tune queries on the tuning part only, and judge them on the held-out part.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from watcher.errors import ArgumentError
from watcher.match.terms import Matcher, Term

PARTS = ("all", "tuning", "held-out")
HEADER_KEYS = ("title", "lang", "expect", "note")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class LabelledText:
    """One text of the folder and the terms that must match it."""

    name: str  # the file name, as misses and false alarms are listed
    number: int | None  # the file number, which decides the part
    title: str
    body: str
    expect: frozenset[str]

    @property
    def part(self) -> str:
        """ "held-out" when the file number is divisible by 3, else "tuning"."""
        return "held-out" if self.number is not None and self.number % 3 == 0 else "tuning"


@dataclass
class TermScore:
    """How one term did on the texts: what it should have matched and what it did."""

    term: str
    misses: list[str] = field(default_factory=list)  # expected, not matched
    false_alarms: list[str] = field(default_factory=list)  # matched, not expected
    found: int = 0  # expected and matched

    @property
    def expected(self) -> int:
        return self.found + len(self.misses)

    @property
    def hits(self) -> int:
        return self.found + len(self.false_alarms)

    @property
    def recall(self) -> float | None:
        """The share of the texts it must match that it matched; None if there are none."""
        return self.found / self.expected if self.expected else None

    @property
    def precision(self) -> float | None:
        """The share of its matches that were expected; None if it matched nothing."""
        return self.found / self.hits if self.hits else None


@dataclass(frozen=True)
class Evaluation:
    """Every term's score on one part of a folder of labelled texts."""

    directory: str
    part: str
    texts: int
    scores: tuple[TermScore, ...]

    def shortfalls(self, min_recall: float, min_precision: float) -> list[str]:
        """What falls below the minimums, one line each; none when every term meets them."""
        found = []
        for score in self.scores:
            if score.recall is not None and score.recall < min_recall:
                found.append(f"{score.term}: recall {score.recall:.2f} < {min_recall:g}")
            if score.precision is not None and score.precision < min_precision:
                found.append(f"{score.term}: precision {score.precision:.2f} < {min_precision:g}")
        return found


def read_labelled(directory: Path, term_names: Sequence[str]) -> list[LabelledText]:
    """The labelled texts in `directory` (its *.txt files, by name); raise `ArgumentError`
    naming the file and line of a mistake, or an expected term that is not configured."""
    if not directory.is_dir():
        raise ArgumentError(f"{directory}: not a folder")
    texts = [_read(path, set(term_names)) for path in sorted(directory.glob("*.txt"))]
    if not texts:
        raise ArgumentError(f"{directory}: no labelled texts (*.txt) in the folder")
    return texts


def _read(path: Path, known: set[str]) -> LabelledText:
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArgumentError(f"{path}: cannot read: {exc}") from None
    header: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        if line.strip() == "---":
            body = "\n".join(lines[number:])
            break
        key, colon, value = line.partition(":")
        key = key.strip()
        if not colon or key not in HEADER_KEYS:
            expected = ", ".join(f"{k}:" for k in HEADER_KEYS)
            raise ArgumentError(
                f"{path}:{number}: expected a header line ({expected}) or ---, found {line!r}"
            )
        if key in header:
            raise ArgumentError(f"{path}:{number}: {key}: given twice")
        header[key] = value.strip()
    else:
        raise ArgumentError(f"{path}: no line --- between the header and the body")
    if "expect" not in header:
        raise ArgumentError(f"{path}: no expect: line (leave it empty for no term)")
    expect = frozenset(name.strip() for name in header["expect"].split(",") if name.strip())
    unknown = sorted(expect - known)
    if unknown:
        at = next(n for n, text in enumerate(lines, 1) if text.startswith("expect"))
        raise ArgumentError(
            f"{path}:{at}: expect: no term named {unknown[0]!r} in the config"
            f" (terms: {', '.join(repr(name) for name in sorted(known))})"
        )
    found = _NUMBER.match(path.name)
    return LabelledText(
        name=path.name,
        number=int(found.group()) if found else None,
        title=header.get("title", ""),
        body=body,
        expect=expect,
    )


def evaluate(terms: Sequence[Term], directory: Path, part: str = "all") -> Evaluation:
    """Each term's misses and false alarms on the texts of `part` of `directory`."""
    if part not in PARTS:
        raise ArgumentError(f"unknown part {part!r} (parts: {', '.join(PARTS)})")
    texts = [
        text
        for text in read_labelled(directory, [term.name for term in terms])
        if part == "all" or text.part == part
    ]
    matcher = Matcher(terms)
    scores = {term.name: TermScore(term.name) for term in terms}
    for text in texts:
        matched = {match.term for match in matcher.match(text.title, text.body)}
        for name, score in scores.items():
            if name in text.expect and name in matched:
                score.found += 1
            elif name in text.expect:
                score.misses.append(text.name)
            elif name in matched:
                score.false_alarms.append(text.name)
    return Evaluation(str(directory), part, len(texts), tuple(scores.values()))


def render_evaluation(evaluation: Evaluation, form: str, shortfalls: Sequence[str]) -> str:
    """The scores as a table with the misses and false alarms by file, or as JSON."""
    if form == "json":
        return json.dumps(
            {
                "directory": evaluation.directory,
                "part": evaluation.part,
                "texts": evaluation.texts,
                "terms": [
                    {
                        "term": s.term,
                        "expected": s.expected,
                        "hits": s.hits,
                        "found": s.found,
                        "recall": s.recall,
                        "precision": s.precision,
                        "misses": s.misses,
                        "false_alarms": s.false_alarms,
                    }
                    for s in evaluation.scores
                ],
                "shortfalls": list(shortfalls),
            },
            ensure_ascii=False,
            indent=2,
        )
    width = max([len("term"), *(len(s.term) for s in evaluation.scores)])
    lines = [
        f"{evaluation.directory}: {evaluation.texts} texts ({evaluation.part})",
        f"{'term':<{width}}  expected  hits  found  recall  precision",
    ]
    for s in evaluation.scores:
        lines.append(
            f"{s.term:<{width}}  {s.expected:>8}  {s.hits:>4}  {s.found:>5}"
            f"  {_ratio(s.recall):>6}  {_ratio(s.precision):>9}"
        )
    for s in evaluation.scores:
        if s.misses:
            lines.append(f"{s.term}: missed {', '.join(s.misses)}")
        if s.false_alarms:
            lines.append(f"{s.term}: false alarms {', '.join(s.false_alarms)}")
    lines += [f"below the minimum: {line}" for line in shortfalls]
    return "\n".join(lines)


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
