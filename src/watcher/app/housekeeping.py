"""Housekeeping: deleting what `[retention]` no longer keeps, beside the running service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from watcher.config.load import Config
from watcher.store import Pruned, open_storage


def housekeep(
    config: Config,
    now: datetime,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Pruned:
    """Delete what `[retention]` no longer keeps (or count it, dry), on a connection of its own.

    Safe beside the running service: each batch is a short transaction of its own.
    """
    kept = config.retention
    articles = None if kept.articles is None else now - timedelta(seconds=kept.articles)
    polls = None if kept.polls is None else now - timedelta(seconds=kept.polls)
    with open_storage(config.database) as store:
        if dry_run:
            return store.retention.count(articles_before=articles, polls_before=polls)
        store.ensure_sound(now)  # daily, so damage found while running stops the writing
        return store.retention.prune(
            articles_before=articles, polls_before=polls, progress=progress
        )
