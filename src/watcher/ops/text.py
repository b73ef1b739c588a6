"""Text from strangers made safe to show: the one home of the control-character rule.

Feed titles, URLs, article texts and receivers' answers may carry control
characters and the bidirectional overrides and isolates that make a line read
differently from what it holds ("Trojan Source", CVE-2021-42574). Tables drop
them, CSV cells, log lines and stderr show them escaped (`escape_controls`),
JSON writes them as \\u escapes, digests drop them but keep line breaks.
"""

from __future__ import annotations

import re

_BIDI = r"\u202a-\u202e\u2066-\u2069"
CONTROL = re.compile(rf"[\x00-\x1f\x7f-\x9f{_BIDI}]")
CONTROL_BUT_NEWLINE = re.compile(rf"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}]")
# The above and the left-to-right and right-to-left marks: for the article snippets
# a miss explanation (`watcher.match.misses`) shows with their found words marked.
CONTROL_OR_MARK = re.compile(rf"[\x00-\x1f\x7f-\x9f\u200e\u200f{_BIDI}]")
# What text from strangers may not carry into a digest or a log line: controls and
# bidi characters, but newlines and tabs.
UNPRINTABLE = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
# Runs of control characters and Unicode line separators, read as one space in a
# one-line digest field (a subject, a snippet).
LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# What json.dumps(ensure_ascii=False) leaves raw that a terminal would obey: DEL, C1,
# bidi controls and the Unicode line separators (C0 it escapes itself).
JSON_RAW = re.compile(rf"[\x7f-\x9f{_BIDI}\u2028\u2029]")


def escape_controls(text: str, keep: str = "") -> str:
    """`text` with each control or bidi character (but those in `keep`) shown as an escape.

    "\\x1b", "\\u202e": visible and harmless on a terminal, and still telling what
    the feed sent.
    """

    def escape(found: re.Match[str]) -> str:
        char = found.group()
        if char in keep:
            return char
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return CONTROL.sub(escape, text)


def describe(problem: object) -> str:
    """A third-party error as one line of text (its message's whitespace collapsed), or its
    type's name when it says nothing."""
    return " ".join(str(problem).split()) or type(problem).__name__
