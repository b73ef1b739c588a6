"""PostgreSQL as the shared store (issue 20): its SQL, kept apart from SQLite's.

`database.py` is the store (`PostgresStore`, a `Storage`), made of the same
parts as SQLite's, whose SQL runs here through `sql.py`'s `PostgresSql`;
only where PostgreSQL's way differs is there a module here: `outbox.py`
(claims that hold between hosts) and `fulltext.py` (the `article_words`
search index). `connection.py` opens a database named by a `postgresql://` URL,
with psycopg's errors as one-line `StoreError`s; `schema.py` has the
migrations, twins of `store/schema.py`'s under the same names, so both
backends share one schema version; `copy.py` its end of `watcher db copy`.
"""
