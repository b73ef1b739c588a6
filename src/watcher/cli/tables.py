"""Rows as text: an aligned table for people, JSON, NDJSON or CSV for programs.

The machinery under every listing the CLI prints (cli/render.py says what the
rows are). Text from strangers is made safe here (the control-character rule
is `watcher.ops.text`): table cells lose control characters, so no terminal
escape sequence reaches the screen; CSV cells show them escaped, and a cell
a spreadsheet would run as a formula gets a leading apostrophe; JSON writes
them as \\u escapes.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from watcher.ops.text import CONTROL, JSON_RAW, escape_controls

FORMATS = ("table", "json", "ndjson", "csv")
NARROWEST = 8  # a column fitted to the terminal keeps at least this many characters


def serialise(rows: list[dict[str, Any]], fields: Sequence[str], form: str) -> str:
    out = io.StringIO()
    write_rows(rows, fields, form, out)
    return out.getvalue().rstrip("\n")


def write_rows(
    rows: Iterable[dict[str, Any]], fields: Sequence[str], form: str, out: TextIO
) -> int:
    """Rows as JSON, NDJSON or CSV, written as they come; returns how many."""
    if form not in FORMATS[1:]:
        raise ValueError(f"unknown format {form!r} (expected one of: {', '.join(FORMATS)})")
    count = 0
    writer = csv.DictWriter(out, fieldnames=list(fields), lineterminator="\n")
    if form == "csv":
        writer.writeheader()
    elif form == "json":
        out.write("[")
    for row in rows:
        if form == "csv":
            writer.writerow({key: csv_cell(row[key]) for key in fields})
        elif form == "ndjson":
            out.write(json_text(row) + "\n")
        else:  # the layout of json.dumps(rows, indent=2), one row at a time
            item = json_text(row, indent=2).replace("\n", "\n  ")
            out.write(("," if count else "") + "\n  " + item)
        count += 1
    if form == "json":
        out.write("\n]\n" if count else "]\n")
    return count


def json_text(value: Any, indent: int | None = None) -> str:
    """JSON that keeps non-ASCII text readable but escapes what a terminal would obey."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    # These characters can only stand inside JSON strings, where \\uXXXX means the same.
    return JSON_RAW.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def csv_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"  # as in the config file and JSON, not Python's True
    if isinstance(value, list):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            value = "'" + value
        value = escape_controls(value, keep="\n\t")  # an article's text keeps its lines
    return value


def width_of(text: str) -> int:
    """Columns `text` takes on a terminal: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def cell(text: str, width: int) -> str:
    """`text` on one line without control characters, cut to `width` columns with "…" (0: uncut).

    One pass that stops at the cut: a title of a megabyte costs what a short one does.
    """
    text = " ".join(CONTROL.sub(" ", text).split())
    if not width:
        return text
    used, cut = 0, None
    for index, char in enumerate(text):
        used += 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if cut is None and used > width - 1:
            cut = index  # text[:cut] and the "…" fit, if it comes to that
        if used > width:
            return text[:cut] + "…"
    return text


def _sizes(headers: list[str], cells: list[list[str]]) -> list[int]:
    return [
        max(width_of(header), *(width_of(row[column]) for row in cells))
        for column, header in enumerate(headers)
    ]


def _fitted_level(sizes: list[int], flexible: Sequence[int], room: int) -> int:
    """The widest cap on the flexible columns that makes `sizes` add up to `room` at most."""

    def total(level: int) -> int:
        return sum(
            min(size, max(level, NARROWEST)) if column in flexible else size
            for column, size in enumerate(sizes)
        )

    low, high = NARROWEST, max(sizes)
    while low < high:  # the largest level whose total fits
        middle = (low + high + 1) // 2
        if total(middle) <= room:
            low = middle
        else:
            high = middle - 1
    return low


def _pad(text: str, width: int) -> str:
    return text + " " * (width - width_of(text))


def table(
    headers: list[str],
    rows: list[list[str]],
    widths: list[int],
    empty: str,
    room: int | None = None,
    flexible: Sequence[int] = (),
) -> str:
    """Rows under their headers, each column cut to its width (0: uncut).

    With `room` (the terminal's width), the `flexible` columns are narrowed,
    widest first, until a line fits, none below `NARROWEST`.
    """
    if not rows:
        return empty
    cells = [[cell(value, size) for value, size in zip(row, widths, strict=True)] for row in rows]
    sizes = _sizes(headers, cells)
    if room is not None and sum(sizes) + 2 * (len(sizes) - 1) > room:
        level = _fitted_level(sizes, flexible, room - 2 * (len(sizes) - 1))
        for column in flexible:
            if sizes[column] > level:
                for row in cells:
                    row[column] = cell(row[column], level)
        sizes = _sizes(headers, cells)
    lines = [headers, ["-" * size for size in sizes], *cells]
    return "\n".join(
        "  ".join(_pad(value, size) for value, size in zip(line, sizes, strict=True)).rstrip()
        for line in lines
    )
