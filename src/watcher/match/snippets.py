"""A match shown in its text: the snippet around it and the marks within.

Pure functions of a text and character ranges in it, used to explain a
`Match` and to mark where terms match in a whole article (`watcher show`).
"""

from __future__ import annotations

import re

from watcher.match.words import HARD

SNIPPET_BEFORE = 90  # characters of context before the first match
SNIPPET_AFTER = 150  # and after it
_JOINER = re.compile(r"[^\w" + re.escape(HARD) + "]*")  # spaces, dashes, quotes


def adjoins(text: str, end: int, start: int) -> bool:
    """Whether a span ending at `end` and one starting at `start` read as one phrase."""
    return start <= end or (start - end <= 3 and _JOINER.fullmatch(text, end, start) is not None)


def snippet(text: str, places: list[tuple[int, int]]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Text around the first place, cut at word boundaries, and where the places fall in it.

    `places` are character ranges in `text`, in order.
    """
    begin, end = places[0]
    left, before = begin - SNIPPET_BEFORE, "…"
    if left > 0:
        space = text.find(" ", left, begin)
        if space != -1:
            left = space + 1
    else:
        left, before = 0, ""
    right, after = end + SNIPPET_AFTER, "…"
    if right < len(text):
        space = text.rfind(" ", end, right)
        if space != -1:
            right = space
    else:
        right, after = len(text), ""
    if len(places) == 1:
        marks = places  # the first place always lies within
    else:
        marks = []
        for start, stop in places:
            if start < left or stop > right or (marks and start < marks[-1][1]):
                continue
            if marks and adjoins(text, marks[-1][1], start):
                marks[-1] = (marks[-1][0], stop)  # "Ahmedabad–Mumbai bullet train" is one mark
            else:
                marks.append((start, stop))
    window = text[left:right].replace("\n", " ")
    if "  " in window or not window.isprintable():
        return _spaced(text, left, right, before, after, marks)
    # One-spaced already, but for line breaks (most snippets): white space other
    # than " " is not printable, so none is left, and the pieces need no one-spacing.
    if window[:1] == " " and not before:
        window, left = window[1:], left + 1
    if window[-1:] == " " and not after:
        window = window[:-1]
    shift = len(before) - left
    if len(marks) == 1:
        ((first, last),) = marks
        return before + window + after, ((first + shift, last + shift),)
    return before + window + after, tuple([(a + shift, b + shift) for a, b in marks])


def _spaced(
    text: str, left: int, right: int, before: str, after: str, marks: list[tuple[int, int]]
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The snippet of `text[left:right]` made one-spaced, and where the `marks` fall in it."""
    # Marks begin and end on word characters, so no run of white space spans
    # a mark's edge, and the window made one-spaced at once is the pieces below
    # made one-spaced one by one; when no run got shorter, offsets stay too.
    window = _one_spaced(text[left:right])
    if len(window) == right - left:
        shown = before + window + after
        highlights = [(len(before) + a - left, len(before) + b - left) for a, b in marks]
    else:
        pieces = [before]
        highlights = []
        position = left
        for start, stop in marks:
            pieces.append(_one_spaced(text[position:start]))
            offset = sum(map(len, pieces))
            pieces.append(_one_spaced(text[start:stop]))
            highlights.append((offset, offset + len(pieces[-1])))
            position = stop
        pieces.append(_one_spaced(text[position:right]))
        pieces.append(after)
        shown = "".join(pieces)
    lead = len(shown) - len(shown.lstrip())
    shifted = tuple((a - lead, b - lead) for a, b in highlights)
    return shown.strip(), shifted


def _one_spaced(piece: str) -> str:
    r"""`piece` with each run of white space made one space.

    As re.sub(r"\s+", " ", piece) (str.split splits on the same white space),
    but faster (bench/micro_bench.py), which counts for a snippet on every match.
    """
    words = piece.split()
    if not words:
        return " " if piece else ""
    lead = " " if piece[0].isspace() else ""
    return lead + " ".join(words) + (" " if piece[-1].isspace() else "")


def merged(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character ranges in `text` as marks: ranges that overlap or only a space or dash
    apart make one mark."""
    marks: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if marks and adjoins(text, marks[-1][1], start):
            marks[-1] = (marks[-1][0], max(end, marks[-1][1]))
        else:
            marks.append((start, end))
    return marks
