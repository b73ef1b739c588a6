"""Matching: watch-term queries compiled once, then matched against article texts.

The surface is `compile_term` (query text -> `Term`) and `Matcher` (many terms,
one scan per article); the CLI also asks why a term missed (`explain_miss`) and
how it scores on labelled texts (`evaluate`), the store indexes text with
`index_text`, the poll picks story clusters with `cluster`. Inside: query
(parser), words and folded (tokenizer), anchors (the one-scan prefilter), near,
spans and snippets (what a match found and shows), terms (evaluation), misses,
evaluation, cluster.

This package imports nothing from watcher but `errors`, `models` and `ops`.
Each name is imported on first use, so that a process needing `words` alone (an
extraction worker clustering stories) does not load the query engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as type checkers see them (`X as X`: re-exported)
    from watcher.match.cluster import simhash as simhash
    from watcher.match.evaluation import PARTS as PARTS
    from watcher.match.evaluation import evaluate as evaluate
    from watcher.match.evaluation import render_evaluation as render_evaluation
    from watcher.match.misses import explain_miss as explain_miss
    from watcher.match.misses import render_miss as render_miss
    from watcher.match.query import Node as Node
    from watcher.match.query import resolve_aliases as resolve_aliases
    from watcher.match.terms import Matcher as Matcher
    from watcher.match.terms import Term as Term
    from watcher.match.terms import compile_term as compile_term
    from watcher.match.terms import match_terms as match_terms
    from watcher.match.words import index_text as index_text

_SURFACE = {
    "Matcher": "watcher.match.terms",
    "Node": "watcher.match.query",
    "PARTS": "watcher.match.evaluation",
    "Term": "watcher.match.terms",
    "compile_term": "watcher.match.terms",
    "evaluate": "watcher.match.evaluation",
    "explain_miss": "watcher.match.misses",
    "index_text": "watcher.match.words",
    "match_terms": "watcher.match.terms",
    "render_evaluation": "watcher.match.evaluation",
    "render_miss": "watcher.match.misses",
    "resolve_aliases": "watcher.match.query",
    "simhash": "watcher.match.cluster",
}
__all__ = list(_SURFACE)


def __getattr__(name: str) -> Any:
    if name not in _SURFACE:
        raise AttributeError(f"module 'watcher.match' has no attribute {name!r}")
    return getattr(importlib.import_module(_SURFACE[name]), name)
