"""What the CLI prints: hits, feeds, deliveries, terms, articles, search results,
statistics and the status report, each as a table or for programs (the table,
JSON and CSV machinery, and its care for text from strangers, is cli/tables.py).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any, TextIO

from watcher.app.search import SearchResult
from watcher.app.status import ServiceStatus
from watcher.cli.tables import cell, serialise, table, write_rows
from watcher.match import Term
from watcher.models import Hit, Match
from watcher.ops.text import CONTROL, CONTROL_BUT_NEWLINE
from watcher.store.records import Delivery, FeedStatus, StoredArticle, TermCount

HIT_FIELDS = (
    "id", "term", "score", "published", "found_at", "feed", "title", "url", "snippet", "source",
    "cluster", "outlets", "clauses", "highlights", "read", "verdict", "muted", "snoozed",
)  # fmt: skip
BAR_WIDTH = 30
_EIGHTHS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """ "1 hit", "2 hits": the count with its noun in agreement."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def render_hits(hits: Sequence[Hit], form: str, width: int | None = None) -> str:
    """Hits as a table (fitted to `width` columns when given) or for programs.

    The table has a column of triage marks when any hit listed has one.
    """
    if form != "table":
        out = io.StringIO()
        write_hits(hits, form, out)
        return out.getvalue().rstrip("\n")
    rows = [asdict(hit) for hit in hits]
    marked = any(hit_marks(hit) for hit in hits)
    headers = ["id", "found", "term", "score", *(["marks"] if marked else []), "feed", "title"]
    return table(
        [*headers, "url"],
        [
            [
                str(row["id"]),
                (row["found_at"] or "")[:16].replace("T", " "),
                row["term"],
                f"{row['score']:g}",
                *([hit_marks(hit)] if marked else []),
                row["feed"],
                row["title"],
                row["url"] or "",
            ]
            for row, hit in zip(rows, hits, strict=True)
        ],
        widths=[0, 16, 28, 5, *([30] if marked else []), 24, 60, 0],
        empty="no hits",
        room=width,
        flexible=[2, 4, 5, 6, 7] if marked else [2, 4, 5, 6],
    )


def hit_marks(hit: Hit) -> str:
    """A hit's triage marks in words: "read, not relevant, story muted"."""
    words = ["read"] if hit.read else []
    if hit.verdict:
        words.append(hit.verdict.replace("_", " "))
    if hit.muted:
        words.append("story muted")
    if hit.snoozed:
        words.append("term snoozed")
    return ", ".join(words)


def write_hits(hits: Iterable[Hit], form: str, out: TextIO, with_text: bool = False) -> int:
    """Hits as JSON, NDJSON or CSV, streamed to `out` (an export of every hit); returns how many.

    `with_text` adds a column with each article's whole text.
    """
    fields = (*HIT_FIELDS, "text") if with_text else HIT_FIELDS
    rows = ({key: getattr(hit, key) for key in fields} for hit in hits)
    return write_rows(rows, fields, form, out)


def render_feeds(feeds: Sequence[FeedStatus], form: str) -> str:
    rows = [asdict(feed) for feed in feeds]
    if form == "table":
        return table(
            ["name", "state", "last polled", "next due", "every", "articles", "hits", "problem"],
            [
                [
                    row["name"],
                    _state(row),
                    _minute(row["last_polled"]) or "never",
                    _minute(row["next_due"]) if row["enabled"] else "",
                    _every(row) if row["enabled"] else "",
                    str(row["articles"]),
                    str(row["hits"]),
                    _problem(row),
                ]
                for row in rows
            ],
            widths=[32, 11, 16, 16, 18, 8, 6, 0],
            empty="no feeds configured",
        )
    return serialise(rows, tuple(FeedStatus.__dataclass_fields__), form)


def render_deliveries(deliveries: Sequence[Delivery], form: str) -> str:
    rows = [asdict(delivery) for delivery in deliveries]
    if form == "table":
        return table(
            ["created", "channel", "status", "hits", "tries", "sent / next try", "id", "problem"],
            [
                [
                    _minute(row["created_at"]),
                    row["channel"],
                    row["status"],
                    str(row["hits"]),
                    str(row["attempts"]),
                    _minute(row["sent_at"] if row["status"] == "sent" else row["next_attempt_at"]),
                    row["id"],
                    row["last_error"] or "",
                ]
                for row in rows
            ],
            widths=[16, 20, 7, 5, 5, 16, 36, 0],
            empty="no deliveries",
        )
    return serialise(rows, tuple(Delivery.__dataclass_fields__), form)


def render_terms(terms: Sequence[Term], form: str, width: int | None = None) -> str:
    rows = [{"name": term.name, "query": term.query} for term in terms]
    if form == "table":
        return table(
            ["name", "query"],
            [[row["name"], row["query"]] for row in rows],
            widths=[28, 0],
            empty="no terms configured",
            room=width,
            flexible=[0, 1],
        )
    return serialise(rows, ("name", "query"), form)


def render_matches(matches: Sequence[Match], mark: tuple[str, str] = ("**", "**")) -> str:
    """Each match with its score, the clauses that matched and the snippet, matches marked."""
    if not matches:
        return "no match"
    blocks = []
    for match in matches:
        snippet = CONTROL.sub(" ", match.snippet)
        marked = ""
        position = 0
        for start, end in match.highlights:
            marked += snippet[position:start] + mark[0] + snippet[start:end] + mark[1]
            position = end
        marked += snippet[position:]
        where = "title and text" if match.in_title else "text"
        blocks.append(
            f"{match.term}  score {match.score:g}  ({plural(match.count, 'match', 'matches')}"
            f" in {where})\n"
            f"  matched: {', '.join(match.clauses)}\n"
            f"  {marked}"
        )
    return "\n\n".join(blocks)


def render_article(
    article: StoredArticle,
    spans: tuple[Sequence[tuple[int, int]], Sequence[tuple[int, int]]],
    form: str,
    mark: tuple[str, str] = ("**", "**"),
) -> str:
    """A stored article in full with its hits, the `spans` (title, text) marked in a table."""
    if form != "table":
        row = asdict(article)
        row["highlights"] = {
            "title": [list(s) for s in spans[0]],
            "text": [list(s) for s in spans[1]],
        }
        return serialise([row], list(row), form)
    feeds = article.feeds or (article.feed,)
    lines = [
        _marked(" ".join(article.title.split()), spans[0], mark),
        _clean(article.url or "(no link)"),
        f"feed: {_clean(feeds[0])}"
        + (f" (also {', '.join(_clean(feed) for feed in feeds[1:])})" if feeds[1:] else ""),
        f"published {_minute(article.published) or 'unknown'}, first seen "
        f"{_minute(article.first_seen_at)}, text from the {article.source}"
        + (f" ({_clean(article.note)})" if article.note else ""),
    ]
    for hit in article.hits:
        lines.append(
            f"hit {hit.id}: {hit.term}, score {hit.score:g} (matched: {', '.join(hit.clauses)})"
        )
    return "\n".join(lines) + "\n\n" + _marked(article.text, spans[1], mark)


def render_search(
    results: Sequence[SearchResult], form: str, mark: tuple[str, str] = ("**", "**")
) -> str:
    """Search results best first: title, where and when, the snippet with matches marked."""
    if form != "table":
        return serialise(
            [asdict(result) for result in results], tuple(SearchResult.__dataclass_fields__), form
        )
    if not results:
        return "no articles found"
    blocks = []
    for number, result in enumerate(results, 1):
        caught = f"  [hit: {', '.join(result.terms)}]" if result.terms else ""
        snippet = _marked(result.snippet, [tuple(span) for span in result.highlights], mark)
        blocks.append(
            f"{number}. {cell(result.title, 0)}{caught}\n"
            f"   {_clean(result.feed)}, {_minute(result.published or result.first_seen_at)}, "
            f"article {result.article_id}, score {result.score:g}\n"
            f"   {' '.join(snippet.split())}\n"
            f"   {_clean(result.url or '(no link)')}"
        )
    return "\n\n".join(blocks)


def periods(first: date, last: date, by: str) -> list[str]:
    """Every day, or the Monday of every week, from `first` to `last`, as YYYY-MM-DD."""
    if by == "week":
        first -= timedelta(days=first.weekday())
    step = timedelta(days=7 if by == "week" else 1)
    found = []
    while first <= last:
        found.append(first.isoformat())
        first += step
    return found


def render_stats(
    counts: Sequence[TermCount],
    form: str,
    periods: Sequence[str],
    terms: Sequence[str],
    by: str = "day",
) -> str:
    """Hits per term per period: a table with a bar of each period's total, or rows for programs.

    `periods` lists every period to show (those without hits too), `terms` the column order.
    """
    if form != "table":
        return serialise(
            [asdict(count) for count in counts], tuple(TermCount.__dataclass_fields__), form
        )
    if not counts:
        return "no hits in this period"
    by_period: dict[str, dict[str, int]] = {period: {} for period in periods}
    for count in counts:
        by_period.setdefault(count.period, {})[count.term] = count.hits
    columns = list(dict.fromkeys([*terms, *(count.term for count in counts)]))
    columns = [term for term in columns if any(term in row for row in by_period.values())]
    totals = {period: sum(row.values()) for period, row in by_period.items()}
    peak = max(totals.values())
    return table(
        ["week of" if by == "week" else "day", *columns, "total", ""],
        [
            [
                period,
                *(str(row.get(term, "·")) for term in columns),  # a dot: no hits
                str(totals[period] or "·"),
                _bar(totals[period], peak),
            ]
            for period, row in sorted(by_period.items())
        ],
        widths=[10, *(16 for _ in columns), 6, 0],
        empty="no hits in this period",
    )


def _bar(value: int, peak: int, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of `value` against `peak`, in eighths of a character."""
    eighths = round(value * width * 8 / peak) if peak else 0
    if value and not eighths:
        eighths = 1  # a period with hits is never drawn empty
    return "█" * (eighths // 8) + _EIGHTHS[eighths % 8]


def _marked(
    text: str, spans: Sequence[tuple[int, int]] | Sequence[Sequence[int]], mark: tuple[str, str]
) -> str:
    """`text` with each span between the marks; control characters but newlines removed."""
    pieces = []
    position = 0
    for start, end in spans:
        if start < position:
            continue
        pieces += [text[position:start], mark[0], text[start:end], mark[1]]
        position = end
    pieces.append(text[position:])
    return CONTROL_BUT_NEWLINE.sub(" ", "".join(pieces))


def _clean(text: str) -> str:
    return " ".join(CONTROL.sub(" ", text).split())


def _minute(stamp: str | None) -> str:
    return (stamp or "")[:16].replace("T", " ")


def _every(row: dict[str, Any]) -> str:
    """How long the feed waits between polls now, and why: "15m interval", "2h backoff"."""
    if row["wait"] is None:
        return ""
    return f"{_duration(row['wait'])} {row['reason'] or 'interval'}"


def _duration(seconds: float) -> str:
    """Seconds as the config writes durations: 90s, 15m, 6h, 2d (rounded down)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if (seconds >= size and seconds % size < 1) or seconds >= 3 * size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _problem(row: dict[str, Any]) -> str:
    if row["unreachable_since"] and not row["consecutive_errors"]:
        return f"unreachable since {_minute(row['unreachable_since'])}: {row['last_error']}"
    if not row["consecutive_errors"]:
        return ""
    since = f" since {_minute(row['failing_since'])}" if row["failing_since"] else ""
    return f"{plural(row['consecutive_errors'], 'failure')}{since}: {row['last_error']}"


def render_status(status: ServiceStatus, form: str) -> str:
    """The service and its feeds at a glance, for `watcher status`."""
    if form != "table":
        return serialise([asdict(status)], tuple(ServiceStatus.__dataclass_fields__), form)
    lines = [
        f"service:   {status.state}",
        f"database:  {status.database}",
        f"integrity: {status.integrity}",
        f"feeds:     {status.feeds} enabled, {status.failing} failing",
        f"hits:      {status.hits_today} today, {status.hits_total} in all",
        f"digests:   {status.pending_deliveries} pending, {status.failed_deliveries} failed"
        + (" (see `watcher deliveries`)" if status.failed_deliveries else ""),
    ]
    if status.started_at:
        lines.insert(1, f"started:   {_minute(status.started_at)} (pid {status.pid})")
    if status.network_down_since:
        since = _minute(status.network_down_since)
        lines.append(f"network:   no feed reachable since {since}: network down?")
    if len(status.processes) > 1:  # several watchers share the database: each one
        lines.append(f"processes: {len(status.processes)}")
        lines += [f"  {line}" for line in status.processes]
    return "\n".join(lines)


def _state(row: dict[str, Any]) -> str:
    if not row["enabled"]:
        return "disabled"
    if row["consecutive_errors"]:
        return "failing"
    if row["unreachable_since"]:
        return "unreachable"
    return "ok" if row["last_ok"] else "new"
