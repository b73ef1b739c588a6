"""The database schema as forward migrations (`sqlite_utils.migrations`).

Each migration runs in its own transaction together with the record of it in
`_sqlite_migrations`; a database of any earlier version is brought up to date
when `Store.open` applies them. Never edit an applied migration: add one.
docs/schema.md describes the resulting tables.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from watcher.errors import StoreError
from watcher.store import tokenizer_m007
from watcher.store.sql import immediate

migrations = Migrations("watcher")


def stamp(moment: datetime | None, timespec: str = "seconds") -> str | None:
    """The stored form of a moment: ISO 8601 in UTC, to the second.

    Due times are kept to the microsecond (`timespec="microseconds"`): cut to
    the second, a poll could come up to a second before a publisher's
    Retry-After ran out. Both forms compare correctly as text.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec=timespec)


def writing(db: Database) -> AbstractContextManager[None]:
    """A transaction that takes the write lock at its start (see `sql.immediate`)."""
    return immediate(db.conn)


def check_version(db: Database, where: object) -> None:
    """Refuse a database that a newer watcher has migrated (issue 17.6).

    Its tables may have columns this program does not know or has lost: used
    anyway, polls skipped every entry while reporting "ok", and `hits` crashed.
    """
    known = [migration.name for migration in migrations._migrations]
    applied = [migration.name for migration in migrations.applied(db)]
    newer = [name for name in applied if name not in known]
    if newer:
        raise StoreError(
            f"{where}: the database has schema version {len(applied)} ({applied[-1]}), newer"
            f" than this watcher's {len(known)} ({known[-1]}): run the newer watcher that wrote it"
        )


@migrations()
def m001_initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE feeds (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            title TEXT,
            etag TEXT,
            last_modified TEXT,
            last_polled_at TEXT,
            last_ok_at TEXT,
            last_status INTEGER,
            consecutive_errors INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            url TEXT UNIQUE,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('page', 'summary')),
            note TEXT,
            author TEXT,
            language TEXT,
            published TEXT,
            feed TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            changed_at TEXT NOT NULL
        );
        CREATE INDEX articles_published ON articles (published);
        CREATE TABLE article_feeds (
            article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
            feed TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            PRIMARY KEY (article_id, feed)
        );
        CREATE TABLE hits (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles (id),
            term TEXT NOT NULL,
            phrase TEXT NOT NULL,
            snippet TEXT NOT NULL,
            score REAL NOT NULL,
            found_at TEXT NOT NULL,
            UNIQUE (article_id, term)
        );
        CREATE INDEX hits_term_found ON hits (term, found_at);
        CREATE INDEX hits_found ON hits (found_at);
        CREATE TABLE polls (
            id INTEGER PRIMARY KEY,
            feed TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'not_modified', 'failed')),
            http_status INTEGER,
            entries INTEGER NOT NULL DEFAULT 0,
            new_articles INTEGER NOT NULL DEFAULT 0,
            updated_articles INTEGER NOT NULL DEFAULT 0,
            hits INTEGER NOT NULL DEFAULT 0,
            error TEXT
        );
        CREATE INDEX polls_feed_started ON polls (feed, started_at);
        """
    )


@migrations()
def m002_explained_hits(db: Database) -> None:
    """Each hit keeps which query clauses matched and where, as JSON arrays."""
    db.executescript(
        """
        ALTER TABLE hits ADD COLUMN clauses TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE hits ADD COLUMN highlights TEXT NOT NULL DEFAULT '[]';
        """
    )


@migrations()
def m003_story_clusters(db: Database) -> None:
    """Near-identical copies of a story share a cluster (see cluster.py)."""
    db.executescript(
        """
        ALTER TABLE articles ADD COLUMN simhash INTEGER;
        ALTER TABLE articles ADD COLUMN cluster_id INTEGER;
        UPDATE articles SET cluster_id = id;
        CREATE INDEX articles_cluster ON articles (cluster_id);
        CREATE TABLE article_bands (
            band INTEGER NOT NULL,
            article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE
        );
        CREATE INDEX article_bands_band ON article_bands (band);
        """
    )


@migrations()
def m004_schedule(db: Database) -> None:
    """Each feed's next due time and failing-since, and the running service's heartbeat."""
    db.executescript(
        """
        ALTER TABLE feeds ADD COLUMN next_due_at TEXT;
        ALTER TABLE feeds ADD COLUMN failing_since TEXT;
        CREATE TABLE service (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            pid INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            heartbeat_at TEXT NOT NULL,
            stopped_at TEXT
        );
        """
    )


@migrations()
def m005_adaptive_interval(db: Database) -> None:
    """The interval a feed's publishing rate suggested at its last successful poll."""
    db.execute("ALTER TABLE feeds ADD COLUMN interval_seconds REAL")


@migrations()
def m006_outbox(db: Database) -> None:
    """Digests as an outbox: written with their hits before sending, marked after acceptance.

    A hit belongs to at most one digest per channel (the primary key of
    `digest_hits`), so no channel is sent a hit twice.
    """
    db.executescript(
        """
        CREATE TABLE channels (
            name TEXT PRIMARY KEY,
            first_seen_at TEXT NOT NULL,
            last_run_at TEXT
        );
        CREATE TABLE digests (
            id TEXT PRIMARY KEY,
            channel TEXT NOT NULL,
            created_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
            hits INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            sent_at TEXT,
            claimed_by INTEGER,
            claimed_until TEXT
        );
        CREATE INDEX digests_due ON digests (status, next_attempt_at);
        CREATE INDEX digests_channel_created ON digests (channel, created_at);
        CREATE TABLE digest_hits (
            channel TEXT NOT NULL,
            hit_id INTEGER NOT NULL REFERENCES hits (id) ON DELETE CASCADE,
            digest_id TEXT NOT NULL REFERENCES digests (id) ON DELETE CASCADE,
            PRIMARY KEY (channel, hit_id)
        );
        CREATE INDEX digest_hits_digest ON digest_hits (digest_id);
        """
    )


FULLTEXT_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"


@migrations()
def m007_search(db: Database) -> None:
    """Full-text search over every stored article; indexes and a last run for housekeeping.

    `articles_fts` is a contentless FTS5 table: it holds the index of each
    article's title and text as `tokenizer_m007.index_text` writes them (our own words,
    so SQLite's tokenizer only splits on spaces), not a second copy of the
    text. The store keeps it in step with `articles` (see store/fulltext.py).
    """
    db.executescript(
        f"""
        CREATE VIRTUAL TABLE articles_fts USING fts5(
            title, text, content='', tokenize="{FULLTEXT_TOKENIZER}"
        );
        INSERT INTO articles_fts (articles_fts, rank) VALUES ('rank', 'bm25(3.0, 1.0)');
        CREATE INDEX articles_first_seen ON articles (first_seen_at);
        CREATE INDEX digest_hits_hit ON digest_hits (hit_id);
        CREATE INDEX article_bands_article ON article_bands (article_id);
        ALTER TABLE service ADD COLUMN housekept_at TEXT;
        """
    )
    rows = db.execute("SELECT id, title, text FROM articles")
    while batch := rows.fetchmany(500):
        db.conn.executemany(
            "INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)",
            [
                (id_, tokenizer_m007.index_text(title), tokenizer_m007.index_text(text))
                for id_, title, text in batch
            ],
        )


@migrations()
def m008_fingerprint_index(db: Database) -> None:
    """What story clustering reads of each candidate copy, without reading the article.

    `simhash` and `cluster_id` sit after the text in an article's row, so
    reading them walked the text's overflow pages: 0.7 ms per new article
    with 4,000 stored, 0.26 ms from this index.
    """
    db.execute(
        "CREATE INDEX articles_fingerprint ON articles (id, first_seen_at, simhash, cluster_id)"
    )


@migrations()
def m009_schedule_reasons(db: Database) -> None:
    """Why each feed waits until its next poll, and what its last poll said of the network.

    `unreachable_at` marks a failure to resolve or connect whose meaning is not
    known yet: the feed's, or the network's (see `Store.record_poll`).
    """
    for column in (
        "next_wait_seconds REAL",
        "next_reason TEXT",
        "unreachable_at TEXT",
        "answered_at TEXT",
    ):
        db.execute(f"ALTER TABLE feeds ADD COLUMN {column}")
    db.execute("UPDATE feeds SET answered_at = last_ok_at")


@migrations()
def m010_integrity(db: Database) -> None:
    """The last integrity check (`PRAGMA quick_check`): when, and what it found wrong."""
    db.executescript(
        """
        CREATE TABLE integrity (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            checked_at TEXT NOT NULL,
            problem TEXT
        );
        """
    )


@migrations()
def m011_marks(db: Database) -> None:
    """Triage marks (issue 19): judgements, reads, muted stories, snoozed terms, the link key.

    A judgement belongs to an (article, term), not to a hit row, so that an
    article a search found and the term missed can be judged too (a miss for
    recall). Mutes and snoozes keep their history: ending one sets `until`,
    so the hits held back while it lasted stay held back. `link_keys` holds
    the secret that signs the one-click links of digests, made at its first
    use (store/marks.py) and kept in the database, so every process sharing
    it signs alike and a copied database keeps its links working.
    """
    db.executescript(
        """
        CREATE TABLE judgements (
            article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
            term TEXT NOT NULL,
            verdict TEXT NOT NULL CHECK (verdict IN ('relevant', 'not_relevant', 'important')),
            judged_at TEXT NOT NULL,
            PRIMARY KEY (article_id, term)
        );
        CREATE INDEX judgements_term ON judgements (term, verdict);
        CREATE TABLE hit_reads (
            hit_id INTEGER PRIMARY KEY REFERENCES hits (id) ON DELETE CASCADE,
            read_at TEXT NOT NULL
        );
        CREATE TABLE story_mutes (
            id INTEGER PRIMARY KEY,
            cluster_id INTEGER NOT NULL,
            since TEXT NOT NULL,
            until TEXT
        );
        CREATE INDEX story_mutes_cluster ON story_mutes (cluster_id);
        CREATE TABLE term_snoozes (
            id INTEGER PRIMARY KEY,
            term TEXT NOT NULL,
            since TEXT NOT NULL,
            until TEXT NOT NULL
        );
        CREATE INDEX term_snoozes_term ON term_snoozes (term);
        CREATE TABLE link_keys (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            secret TEXT NOT NULL  -- hex, so both stores and `db copy` hold it as text
        );
        """
    )


@migrations()
def m012_processes(db: Database) -> None:
    """Several watchers, one database (issue 20): a feed's claim, and each process's beat.

    A process about to poll a due feed claims it (`claimed_by` "host:pid",
    `claimed_until` the end of its lease), so no other polls it meanwhile; a
    process that dies gives its feeds back when the lease runs out. Each
    running process beats in `processes` (host, pid, last beat, feeds in
    hand) for `watcher status`.
    """
    db.executescript(
        """
        ALTER TABLE feeds ADD COLUMN claimed_by TEXT;
        ALTER TABLE feeds ADD COLUMN claimed_until TEXT;
        CREATE TABLE processes (
            id TEXT PRIMARY KEY,  -- "host:pid"
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            beat_at TEXT NOT NULL,
            stopped_at TEXT,
            feeds INTEGER NOT NULL DEFAULT 0
        );
        """
    )


@migrations()
def m013_search_words(db: Database) -> None:
    """PostgreSQL's search index, the words of each article (store/postgres/fulltext.py).

    SQLite's index is `articles_fts` (m007): nothing changes here; the
    migration keeps both backends at one schema version.
    """
