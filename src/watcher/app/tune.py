"""Tuning a watch-term against what was already collected, then saving it.

`preview` runs an edited query over the stored articles (through the archive
search, so with the same semantics as a watch-term) beside the saved one:
what the edit would newly catch, what it would lose, and which articles the
desk judged not relevant for the term that it would still catch. `explain`
says why a pasted text matches or not (`watcher terms test`). `save` writes
the query into the config file and `reload_service` tells a running service
to re-read it.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from watcher.app.search import SearchResult, search
from watcher.config.edit import set_term_query
from watcher.errors import QueryError, WatcherError
from watcher.match import Matcher, Node, Term, compile_term, explain_miss
from watcher.match.misses import Finding
from watcher.models import Match
from watcher.ops.processes import process_alive
from watcher.store import Storage
from watcher.store.records import HitQuery

CAUGHT = 500  # stored articles a preview reads for each query; beyond, counts say "500+"


@dataclass(frozen=True)
class TunePreview:
    """What an edited query would catch among the stored articles, against the saved one."""

    query: str
    error: str | None = None  # the edited query does not parse, or cannot be searched
    caught: list[SearchResult] = field(default_factory=list)  # by the edited query
    new: list[SearchResult] = field(default_factory=list)  # caught now, not by the saved one
    lost: list[SearchResult] = field(default_factory=list)  # caught by the saved one only
    not_relevant: list[SearchResult] = field(default_factory=list)  # judged so, still caught
    saved_caught: int = 0  # articles the saved query catches
    capped: bool = False  # one of the queries caught `CAUGHT` or more: counts are lower bounds


def preview(
    store: Storage,
    saved: str,
    edited: str,
    *,
    aliases: Mapping[str, Node] | None = None,
    not_relevant: Collection[int] = (),
) -> TunePreview:
    """The edited query's catch among stored articles, compared with the saved query's.

    `not_relevant` holds the ids of articles judged not relevant for the term.
    """
    try:
        before = search(store, saved, limit=CAUGHT, aliases=aliases)
    except QueryError:
        before = []  # a saved query the index cannot look up: everything caught is new
    try:
        after = search(store, edited, limit=CAUGHT, aliases=aliases)
    except QueryError as exc:
        return TunePreview(query=edited, error=str(exc), saved_caught=len(before))
    old = {result.article_id for result in before}
    now = {result.article_id for result in after}
    return TunePreview(
        query=edited,
        caught=after,
        new=[result for result in after if result.article_id not in old],
        lost=[result for result in before if result.article_id not in now],
        not_relevant=[result for result in after if result.article_id in not_relevant],
        saved_caught=len(before),
        capped=CAUGHT in (len(before), len(after)),
    )


def judged_not_relevant(store: Storage, term: str) -> set[int]:
    """The ids of the articles the desk judged not relevant for `term` among its hits."""
    judged = store.archive.hits(HitQuery(terms=(term,), verdicts=("not_relevant",)))
    articles = (store.archive.article_of_hit(hit.id) for hit in judged)
    return {article.id for article in articles if article is not None}


@dataclass(frozen=True)
class Explanation:
    """How a query fares on a pasted text: its matches, or why it misses."""

    matches: list[Match]
    findings: list[Finding]  # empty when it matches


def explain(
    name: str, query: str, title: str, text: str, aliases: Mapping[str, Node]
) -> Explanation:
    """Match `query` on the text; without a match, each part's finding (`terms test`)."""
    term: Term = compile_term(name, query, aliases)
    matches = Matcher([term]).match(title, text)
    return Explanation(matches, [] if matches else explain_miss(term, title, text))


def save(config_path: Path, name: str, query: str) -> None:
    """Write the term's new query into the config file (comments kept; checked first)."""
    set_term_query(config_path, name, query)


def reload_service(store: Storage) -> list[int]:
    """Tell the services running on this host to re-read their config and look at their
    outbox again (SIGHUP); their pids, [] if none runs here.

    Each watcher process notes its host and pid: on a database several hosts share
    (PostgreSQL), a pid noted elsewhere names no process of ours here, and several
    services may run here, each to be told.
    """
    host = socket.gethostname()
    beats = store.heartbeat.processes()
    pids = {beat.pid for beat in beats if beat.host == host and beat.stopped_at is None}
    recorded = store.heartbeat.state()
    if not beats and recorded is not None and recorded[3] is None:
        pids = {recorded[0]}  # a service from before processes were noted
    told = []
    for pid in sorted(pids):
        if pid == os.getpid() or not process_alive(pid):
            continue
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:  # gone meanwhile
            continue
        except OSError as exc:  # another user's process
            raise WatcherError(
                f"cannot tell the service (pid {pid}) to reload: {exc.strerror}"
            ) from None
        told.append(pid)
    return told
