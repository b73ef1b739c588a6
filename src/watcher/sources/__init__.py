"""Where articles come from: the one HTTP client (http, its settings), feeds parsed
and discovered (feed), pages extracted in worker processes (extract), an
entry's article read from its page (page) and the per-host limits both the client
and the page reader keep (hosts).

Imports nothing from watcher but `errors`, `models` and `match` (story fingerprints).
"""
