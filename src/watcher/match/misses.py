"""Why a term does not match an article: which parts of its query were found, where, and
how near the parts of each proximity operator came to each other.

`watcher terms test` prints this when a term finds nothing, so a user who
sees a story missed learns why in one command: a word or phrase absent, a
NOT that ruled the article out, or two parts found but too far apart
("nearest 398 words apart, NEAR/4 needs 4 or fewer") or never in one
sentence. Word numbers count from 1 at the start of the title or the text,
each punctuation mark one word, as NEAR counts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from watcher.match.near import sloppy
from watcher.match.query import MAX_NEAR, AllOf, AnyOf, Field, Leaf, Near, Node, Not
from watcher.match.snippets import snippet
from watcher.match.spans import TEXT, TITLE, Span
from watcher.match.terms import PreparedArticle, Term, evaluate
from watcher.ops.text import CONTROL_OR_MARK

_FIELDS = {"title": (TITLE,), "text": (TEXT,)}
_PLACE = {TITLE: "title", TEXT: "text"}
_MOST_PAIRS = 250_000  # places compared for the nearest pair: bounds the work on long texts
_MANY = 1 << 30


@dataclass(frozen=True)
class Finding:
    """One part of a query and what became of it in the article."""

    depth: int  # nesting in the query, for indenting
    status: str  # "found", "not found", "excluded", "absent", "too far", "apart", "near", ...
    part: str  # the part as the query writes it
    detail: str = ""  # where, how far, what is needed
    snippet: str = ""  # text around the first place found
    highlights: tuple[tuple[int, int], ...] = ()


def explain_miss(term: Term, title: str, text: str) -> list[Finding]:
    """What each part of `term`'s query found in the article, top part first."""
    article = PreparedArticle(title, text)
    findings: list[Finding] = []
    _explain(term.tree, article, (TITLE, TEXT), 0, findings)
    return findings


def render_miss(findings: list[Finding], mark: tuple[str, str] = ("**", "**")) -> str:
    """The findings as indented lines, each found part with its snippet, places marked."""
    lines = []
    width = max((len(finding.status) for finding in findings), default=0)
    for finding in findings:
        line = "  " * (finding.depth + 1) + f"{finding.status:<{width}}  {finding.part}"
        if finding.detail:
            line += f": {finding.detail}"
        lines.append(line)
        if finding.snippet:
            shown, position = "", 0
            for start, end in finding.highlights:
                shown += finding.snippet[position:start] + mark[0] + finding.snippet[start:end]
                shown += mark[1]
                position = end
            shown += finding.snippet[position:]
            lines.append("  " * (finding.depth + 2) + " " * width + CONTROL_OR_MARK.sub(" ", shown))
    return "\n".join(lines)


def source(node: Node) -> str:
    """A query part written out again, as short as it reads in the query."""
    if isinstance(node, Leaf):
        return node.source
    if isinstance(node, AnyOf | AllOf):
        joiner = " OR " if isinstance(node, AnyOf) else " AND "
        return "(" + joiner.join(source(part) for part in node.parts) + ")"
    if isinstance(node, Not):
        return f"NOT {source(node.part)}"
    if isinstance(node, Field):
        return f"{node.name}:{source(node.part)}"
    return f"{source(node.left)} {node.operator} {source(node.right)}"


def _explain(
    node: Node, article: PreparedArticle, fields: tuple[int, ...], depth: int, out: list[Finding]
) -> None:
    if isinstance(node, Field):
        _explain(node.part, article, _FIELDS[node.name], depth, out)
        return
    found = evaluate(node, article, fields)
    if isinstance(node, Leaf):
        if found.ok:
            out.append(_leaf(node, article, found.spans, depth))
        else:
            out.append(_absent(node, article, fields, depth))
        return
    if isinstance(node, Not):
        part = evaluate(node.part, article, fields)
        if part.ok:
            where = _where(article, part.spans[0]) if part.spans else ""
            detail = f"found{' at ' + where if where else ''}, which rules the article out"
            out.append(Finding(depth, "excluded", source(node), detail))
        else:
            out.append(Finding(depth, "absent", source(node), "as needed"))
        return
    if isinstance(node, AnyOf | AllOf):
        kind = "one of" if isinstance(node, AnyOf) else "all of"
        out.append(Finding(depth, "found" if found.ok else "not found", kind))
        for child in node.parts:
            _explain(child, article, fields, depth + 1, out)
        return
    out.append(_near(node, article, fields, found.ok, depth))
    for side in (node.left, node.right):
        _explain(side, article, fields, depth + 1, out)


def _leaf(node: Leaf, article: PreparedArticle, spans: list[Span], depth: int) -> Finding:
    first = min(spans)
    words = article.fields[first.place]
    places = sorted({(s.place, s.start, s.end) for s in spans})
    count = f"{len(places)} place{'s' if len(places) > 1 else ''}"
    shown, highlights = snippet(words.text, [words.chars(first.start, first.end)])
    detail = f"at {_where(article, first)}" + (f" ({count})" if len(places) > 1 else "")
    return Finding(depth, "found", node.source, detail, shown, highlights)


def _absent(node: Leaf, article: PreparedArticle, fields: tuple[int, ...], depth: int) -> Finding:
    """A word or phrase not found; for a phrase, which of its words are missing, or else how
    many words stand between them at the closest (what `~n` would let in)."""
    size = len(node.words)
    if size == 1:
        return Finding(depth, "not found", node.source)
    missing = []
    for k, word in enumerate(node.words):
        exact = None if node.exact is None else (node.exact[k],)
        prefix = node.prefix and k == size - 1
        if not any(article.fields[f].exists((word,), exact, prefix) for f in fields):
            missing.append(word)
    if missing:
        detail = f"no {', '.join(repr(word) for word in missing)} in the article"
        return Finding(depth, "not found", node.source, detail)
    loose = replace(node, slop=MAX_NEAR)
    closest: tuple[int, int, int] | None = None  # words between, place, start
    for f in fields:
        for start, _, words in sloppy(loose, article.fields[f], None, None):
            if closest is None or words - size < closest[0]:
                closest = (words - size, f, start)
    if closest is None:
        detail = f"its words are there, never in this order within {MAX_NEAR} words"
        return Finding(depth, "not found", node.source, detail)
    between, place, start = closest
    where = f"{_PLACE[place]} word {_number(article, place, start) + 1}"
    detail = f"its words in this order at {where}, {between} other word"
    detail += f"{'s' if between != 1 else ''} between them (~{between} lets them in)"
    return Finding(depth, "not found", node.source, detail)


def _where(article: PreparedArticle, span: Span) -> str:
    return f"{_PLACE[span.place]} word {_number(article, span.place, span.start) + 1}"


def _number(article: PreparedArticle, place: int, start: int) -> int:
    """How many words come before position `start` in the title or the text."""
    return article.fields[place].words_between(0, start, _MANY)


def _near(
    node: Near, article: PreparedArticle, fields: tuple[int, ...], ok: bool, depth: int
) -> Finding:
    """How near the two sides of `node` came: its verdict, with the nearest pair if unmet."""
    part = source(node)
    left = evaluate(node.left, article, fields)
    right = evaluate(node.right, article, fields)
    if not (left.ok and right.ok):
        return Finding(depth, "not found", part, f"{node.operator} needs both sides")
    if node.scope:
        unit = "sentence" if node.scope == "s" else "paragraph"
        if ok:
            return Finding(depth, "near", part, f"both in one {unit}")
        return Finding(depth, "apart", part, f"both found, but not in one {unit}")
    nearest = _nearest(node, article, left.spans, right.spans)
    if nearest is None:
        why = "never in that order" if node.ordered else "never in the same field"
        return Finding(depth, "too far", part, f"both found, {why}")
    gap, one, other = nearest
    second = _number(article, other.place, other.start) + 1
    detail = f"nearest at {_where(article, one)} and word {second}"
    detail += f", {gap} word{'s' if gap != 1 else ''} apart"
    if ok:
        return Finding(depth, "near", part, detail)
    return Finding(
        depth, "too far", part, f"{detail}; {node.operator} needs {node.distance} or fewer"
    )


def _nearest(
    node: Near, article: PreparedArticle, lefts: list[Span], rights: list[Span]
) -> tuple[int, Span, Span] | None:
    """The fewest words between a place of the left side and one of the right (after it, for
    ONEAR), and the two places; None if no pair is in one field (or in order)."""
    numbers: dict[tuple[int, int], int] = {}
    for place, start in sorted({(s.place, s.start) for s in (*lefts, *rights)}):
        numbers[place, start] = _number(article, place, start)
    best: tuple[int, Span, Span] | None = None
    budget = _MOST_PAIRS
    for one in sorted(lefts):
        for other in sorted(rights):
            budget -= 1
            if budget < 0:
                return best
            if other.place != one.place or other == one:
                continue
            first, second = numbers[one.place, one.start], numbers[other.place, other.start]
            if second >= first + one.size:
                gap = second - first - one.size
            elif node.ordered:
                continue
            elif first >= second + other.size:
                gap = first - second - other.size
            else:
                gap = 0  # overlapping
            if best is None or gap < best[0]:
                best = (gap, one, other)
    return best
