"""Where articles come from: the one HTTP client (http, its settings), feeds parsed
and discovered (feed), pages extracted in worker processes (extract) and an
entry's article read from its page (page).

Imports nothing from watcher but `errors`, `models` and `match` (story fingerprints).
"""
