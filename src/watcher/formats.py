"""Hits and feeds as text: an aligned table for people, JSON, NDJSON or CSV for programs.

Feed text comes from strangers, so table cells lose control characters (no
terminal escape sequences reach the screen) and CSV cells that a spreadsheet
would run as a formula are quoted with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from watcher.models import Delivery, FeedStatus, Hit, Match, ServiceStatus
from watcher.terms import Term

FORMATS = ("table", "json", "ndjson", "csv")
HIT_FIELDS = (
    "id", "term", "score", "published", "found_at", "feed", "title", "url", "snippet", "source",
    "cluster", "outlets", "clauses", "highlights",
)  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def render_hits(hits: Sequence[Hit], form: str) -> str:
    rows = [asdict(hit) for hit in hits]
    if form == "table":
        return _table(
            ["found", "term", "score", "feed", "title", "url"],
            [
                [
                    (row["found_at"] or "")[:16].replace("T", " "),
                    row["term"],
                    f"{row['score']:g}",
                    row["feed"],
                    row["title"],
                    row["url"] or "",
                ]
                for row in rows
            ],
            widths=[16, 28, 5, 24, 60, 0],
            empty="no hits",
        )
    return _serialise(rows, HIT_FIELDS, form)


def render_feeds(feeds: Sequence[FeedStatus], form: str) -> str:
    rows = [asdict(feed) for feed in feeds]
    if form == "table":
        return _table(
            ["name", "state", "last polled", "next due", "articles", "hits", "problem"],
            [
                [
                    row["name"],
                    _state(row),
                    _minute(row["last_polled"]) or "never",
                    _minute(row["next_due"]) if row["enabled"] else "",
                    str(row["articles"]),
                    str(row["hits"]),
                    _problem(row),
                ]
                for row in rows
            ],
            widths=[32, 8, 16, 16, 8, 6, 0],
            empty="no feeds configured",
        )
    return _serialise(rows, tuple(FeedStatus.__dataclass_fields__), form)


def render_deliveries(deliveries: Sequence[Delivery], form: str) -> str:
    rows = [asdict(delivery) for delivery in deliveries]
    if form == "table":
        return _table(
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
    return _serialise(rows, tuple(Delivery.__dataclass_fields__), form)


def render_terms(terms: Sequence[Term], form: str) -> str:
    rows = [{"name": term.name, "query": term.query} for term in terms]
    if form == "table":
        return _table(
            ["name", "query"],
            [[row["name"], row["query"]] for row in rows],
            widths=[28, 0],
            empty="no terms configured",
        )
    return _serialise(rows, ("name", "query"), form)


def render_matches(matches: Sequence[Match], mark: tuple[str, str] = ("**", "**")) -> str:
    """Each match with its score, the clauses that matched and the snippet, matches marked."""
    if not matches:
        return "no match"
    blocks = []
    for match in matches:
        snippet = _CONTROL.sub(" ", match.snippet)
        marked = ""
        position = 0
        for start, end in match.highlights:
            marked += snippet[position:start] + mark[0] + snippet[start:end] + mark[1]
            position = end
        marked += snippet[position:]
        where = "title and text" if match.in_title else "text"
        blocks.append(
            f"{match.term}  score {match.score:g}  ({match.count} matches in {where})\n"
            f"  matched: {', '.join(match.clauses)}\n"
            f"  {marked}"
        )
    return "\n\n".join(blocks)


def _minute(stamp: str | None) -> str:
    return (stamp or "")[:16].replace("T", " ")


def _problem(row: dict[str, Any]) -> str:
    if not row["consecutive_errors"]:
        return ""
    since = f" since {_minute(row['failing_since'])}" if row["failing_since"] else ""
    return f"{row['consecutive_errors']} failures{since}: {row['last_error']}"


def render_status(status: ServiceStatus, form: str) -> str:
    """The service and its feeds at a glance, for `watcher status`."""
    if form != "table":
        return _serialise([asdict(status)], tuple(ServiceStatus.__dataclass_fields__), form)
    lines = [
        f"service:   {status.state}",
        f"database:  {status.database}",
        f"feeds:     {status.feeds} enabled, {status.failing} failing",
        f"hits:      {status.hits_today} today, {status.hits_total} in all",
        f"digests:   {status.pending_deliveries} pending, {status.failed_deliveries} failed"
        + (" (see `watcher deliveries`)" if status.failed_deliveries else ""),
    ]
    if status.started_at:
        lines.insert(1, f"started:   {_minute(status.started_at)} (pid {status.pid})")
    return "\n".join(lines)


def _state(row: dict[str, Any]) -> str:
    if not row["enabled"]:
        return "disabled"
    if row["consecutive_errors"]:
        return "failing"
    return "ok" if row["last_ok"] else "new"


def _serialise(rows: list[dict[str, Any]], fields: Sequence[str], form: str) -> str:
    if form == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    if form == "ndjson":
        return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    if form == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(fields), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _csv_cell(row[key]) for key in fields})
        return out.getvalue().rstrip("\n")
    raise ValueError(f"unknown format {form!r} (expected one of: {', '.join(FORMATS)})")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _width(text: str) -> int:
    """Columns `text` takes on a terminal: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _cell(text: str, width: int) -> str:
    text = " ".join(_CONTROL.sub(" ", text).split())
    if not width or _width(text) <= width:
        return text
    while _width(text) > width - 1:
        text = text[:-1]
    return text + "…"


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _table(headers: list[str], rows: list[list[str]], widths: list[int], empty: str) -> str:
    if not rows:
        return empty
    cells = [[_cell(value, size) for value, size in zip(row, widths, strict=True)] for row in rows]
    sizes = [
        max(_width(header), *(_width(row[column]) for row in cells))
        for column, header in enumerate(headers)
    ]
    lines = [headers, ["-" * size for size in sizes], *cells]
    return "\n".join(
        "  ".join(_pad(value, size) for value, size in zip(line, sizes, strict=True)).rstrip()
        for line in lines
    )
