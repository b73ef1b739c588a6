"""Sentences and paragraphs: where they start in a text, for `/s` and `/p` in queries.

A paragraph ends at a blank line; a text with no blank line at all (the
extractor writes an article one paragraph a line) has a paragraph per line.
A sentence ends at a paragraph's end and after `.`, `!` or `?` (and any
closing quotes or brackets) followed by white space, or after a CJK full
stop, a full-width ! or ?, or a Devanagari danda, space or not. A dot does
not end a sentence after a single letter ("U.S.", "J. Sato") or a title such
as "Dr.", nor when the next word starts in lower case ("e.g. rail").
"""

from __future__ import annotations

import re

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
_LINE_BREAK = re.compile(r"\n\s*")
_CLOSING = "\"')\\]\u201d\u2019\u00bb\u300d\u300f\uff09"  # quotes and brackets after a stop
_STOP = re.compile(
    f"[.!?]+[{_CLOSING}]*\\s+"
    "|[\u3002\uff01\uff1f\u0964\u0965]+"  # CJK full stop, ! and ?; Devanagari danda, double danda
    f"[{_CLOSING}]*\\s*"
)
_WORD_BEFORE = re.compile(r"(\w+)$")
# Words written with a dot that mostly stand before a name or number, not at a sentence's end.
_TITLES = frozenset(
    "mr mrs ms dr prof st sen rep gov gen col lt capt sgt maj adm cmdr no nos vs fig approx".split()  # noqa: SIM905
)


def paragraph_starts(text: str) -> list[int]:
    """Where each paragraph of `text` starts (the first is 0), in order."""
    breaks = _BLANK_LINE if _BLANK_LINE.search(text) else _LINE_BREAK
    return [0, *(found.end() for found in breaks.finditer(text) if found.end() < len(text))]


def sentence_starts(text: str) -> list[int]:
    """Where each sentence of `text` starts (the first is 0), in order; paragraphs end
    sentences too."""
    starts = set(paragraph_starts(text))
    for found in _STOP.finditer(text):
        end = found.end()
        if end >= len(text) or (text[found.start()] == "." and not _ends_sentence(text, found)):
            continue
        starts.add(end)
    return sorted(starts)


def _ends_sentence(text: str, stop: re.Match[str]) -> bool:
    """Whether the dot `stop` found ends a sentence (see the module's rules)."""
    if text[stop.end()].islower():
        return False
    before = _WORD_BEFORE.search(text, max(0, stop.start() - 12), stop.start())
    if before is None:
        return True
    word = before.group(1)
    return not (
        (len(word) == 1 and word.isalpha()) or (word.casefold() in _TITLES and "\n" not in stop[0])
    )
