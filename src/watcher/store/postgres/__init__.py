"""PostgreSQL as the shared store (issue 20): its SQL, kept apart from SQLite's.

`connection.py` opens a database named by a `postgresql://` URL, with
psycopg's errors as one-line `StoreError`s; `schema.py` has the migrations,
twins of `store/schema.py`'s under the same names, so both backends share one
schema version.
"""
