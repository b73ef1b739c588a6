"""The tokenizer migration m007 filled the full-text index with, frozen.

A copy of `watcher.match.words.index_text` as it was when m007 was written: an
applied migration must do the same thing on every database, whatever the live
tokenizer becomes. Should the live one change, a new migration re-indexes with
it; this copy stays as it is.
"""

from __future__ import annotations

import re
import unicodedata

import regex

_SPACELESS = (
    "\u2e80-\u2e99\u2e9b-\u2ef3\u2f00-\u2fd5\u3005\u3007\u3021-\u3029\u3038-\u303b"
    "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fd-\u30ff\u31f0-\u31ff\u32d0-\u32fe"
    "\u3300-\u3357\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufa6d\ufa70-\ufad9\uff66-\uff6f"
    "\uff71-\uff9d\U00016fe2-\U00016fe3\U00016ff0-\U00016ff6\U0001aff0-\U0001aff3"
    "\U0001aff5-\U0001affb\U0001affd-\U0001affe\U0001b000-\U0001b128\U0001b132"
    "\U0001b150-\U0001b152\U0001b155\U0001b164-\U0001b168\U0001f200\U00020000-\U0002a6df"
    "\U0002a700-\U0002b81e\U0002b820-\U0002cead\U0002ceb0-\U0002ebe0\U0002ebf0-\U0002ee5d"
    "\U0002f800-\U0002fa1d\U00030000-\U0003134a\U00031350-\U00033479"
)
_HARD = (
    ",.;:!?()\\[\\]{}"
    "\u0964\u0965"  # Devanagari danda, double danda
    "\u3001\u3002\u3010\u3011\uff08\uff09\uff0c\uff0e\uff1a\uff1b\uff01\uff1f"  # CJK
)
_FAST = re.compile(rf"[^\W{_SPACELESS}]+|[{_SPACELESS}]|[{_HARD}]")
_HARD_SET = frozenset(_HARD.replace("\\", ""))
_MARKED = regex.compile(rf"[{_SPACELESS}]|(?:(?![{_SPACELESS}])[\w\p{{M}}])+|[{_HARD}]")
_MARK = regex.compile(r"\p{M}")
_PLAIN = re.compile(rf"\w+|[{_HARD}]")
_SPACELESS_HINT = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff66-\uff9f\U00016fe0-\U0003347f]")


def index_text(text: str) -> str:
    """The words of `text` folded (NFKC, case-folded) and space-separated, clause
    punctuation left out, `_` joining nothing."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    folded = text.casefold()
    if _MARK.search(folded):
        pattern: re.Pattern[str] | regex.Pattern[str] = _MARKED
    else:
        pattern = _FAST if _SPACELESS_HINT.search(folded) else _PLAIN
    return " ".join(
        word.replace("_", " ") for word in pattern.findall(folded) if word not in _HARD_SET
    )
