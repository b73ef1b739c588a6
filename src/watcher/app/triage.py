"""Triage: mark hits read, judge them, mute a story, snooze a term (issue 19).

What the CLI (`watcher mark`, `mute`, `snooze`) and the web desk call. Marks
live in the database (store/marks.py); digests leave out hits judged not
relevant and hits held back by a mute or a snooze (store/outbox.py), and
`watcher hits` shows them all with their marks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, get_args

from watcher.errors import ArgumentError
from watcher.store import Storage
from watcher.store.records import MutedStory, SnoozedTerm

Verdict = Literal["relevant", "not_relevant", "important"]  # important implies relevant
VERDICTS: tuple[str, ...] = get_args(Verdict)


def _verdict(verdict: str | None) -> str | None:
    if verdict is not None and verdict not in VERDICTS:
        raise ArgumentError(f"unknown verdict {verdict!r} (one of {', '.join(VERDICTS)})")
    return verdict


def _hits(store: Storage, hit_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """(article id, term) of each hit; an unknown id is an `ArgumentError` naming it."""
    pairs = store.marks.hit_pairs(hit_ids)
    missing = [hit_id for hit_id in hit_ids if hit_id not in pairs]
    if missing:
        listed = ", ".join(map(str, missing))
        raise ArgumentError(
            f"no hit {listed} in the database (see `watcher hits`)"
            if len(missing) == 1
            else f"no hits {listed} in the database (see `watcher hits`)"
        )
    return pairs


def mark_read(store: Storage, hit_ids: Sequence[int], now: datetime, read: bool = True) -> None:
    """Mark hits read (or unread again); every id must be a stored hit."""
    ids = list(dict.fromkeys(hit_ids))
    with store.translated():
        _hits(store, ids)
        store.marks.set_read(ids, read, now)


def judge(store: Storage, hit_id: int, verdict: Verdict | None, now: datetime) -> None:
    """Judge a hit relevant, not relevant or important; None clears the verdict.

    The verdict belongs to the hit's (article, term): it is the same one
    `judge_article` gives.
    """
    verdict = _verdict(verdict)  # type: ignore[assignment]  # from a form: checked here
    with store.translated():
        article_id, term = _hits(store, [hit_id])[hit_id]
        store.marks.judge(article_id, term, verdict, now)


def judge_hits(
    store: Storage, hit_ids: Sequence[int], verdict: Verdict | None, now: datetime
) -> None:
    """`judge` several hits alike; none is judged when one id is unknown."""
    verdict = _verdict(verdict)  # type: ignore[assignment]
    with store.translated():
        pairs = _hits(store, list(dict.fromkeys(hit_ids)))
        for article_id, term in pairs.values():
            store.marks.judge(article_id, term, verdict, now)


def judge_article(
    store: Storage, article_id: int, term: str, verdict: Verdict | None, now: datetime
) -> None:
    """Judge a stored article for a term, hit or not (None clears).

    An article a search found that the term did not hit, judged relevant (or
    important), counts as the term's miss in `judged_figures`.
    """
    verdict = _verdict(verdict)  # type: ignore[assignment]
    if not term.strip():
        raise ArgumentError("a judgement needs a term's name")
    with store.translated():
        if not store.marks.article_exists(article_id):
            raise ArgumentError(f"no article {article_id} in the database (see `watcher search`)")
        store.marks.judge(article_id, term, verdict, now)


def mute_story(
    store: Storage, cluster_id: int, now: datetime, until: datetime | None = None
) -> None:
    """Mute a story (a cluster of copies) until `until`, or for ever when None.

    Its copies found meanwhile are stored and listed by `watcher hits`, but sent
    to no channel; so are its hits still waiting for a digest.
    """
    if until is not None and until <= now:
        raise ArgumentError("a mute must end after it starts")
    with store.translated():
        if not store.marks.cluster_exists(cluster_id):
            raise ArgumentError(
                f"no story {cluster_id} in the database (the `cluster` of `watcher hits`)"
            )
        store.marks.mute(cluster_id, now, until)


def unmute_story(store: Storage, cluster_id: int, now: datetime | None = None) -> None:
    """End a story's mute now; what it held back stays out of digests.

    Raises `ArgumentError` when the story is not muted.
    """
    with store.translated():
        ended = store.marks.unmute(cluster_id, now or datetime.now(UTC))
    if not ended:
        raise ArgumentError(f"story {cluster_id} is not muted")


def snooze_term(store: Storage, term: str, until: datetime, now: datetime) -> None:
    """Snooze a term until `until`: its hits are stored and listed, not sent."""
    if until <= now:
        raise ArgumentError("a snooze must end after it starts")
    if not term.strip():
        raise ArgumentError("snoozing needs a term's name")
    with store.translated():
        store.marks.snooze(term, now, until)


def wake_term(store: Storage, term: str, now: datetime | None = None) -> None:
    """End a term's snooze now; the hits it held back stay out of digests.

    Raises `ArgumentError` when the term is not snoozed.
    """
    with store.translated():
        ended = store.marks.wake(term, now or datetime.now(UTC))
    if not ended:
        raise ArgumentError(f"term {term!r} is not snoozed")


def muted_stories(store: Storage, now: datetime) -> list[MutedStory]:
    """The stories muted at `now`, most recently muted first."""
    with store.translated():
        return store.marks.muted(now)


def snoozed_terms(store: Storage, now: datetime) -> list[SnoozedTerm]:
    """The terms snoozed at `now`, soonest awake first."""
    with store.translated():
        return store.marks.snoozed(now)
