"""The links a digest carries for each hit: its page on the web desk, and its signed
one-click "not relevant" action (issue 19, docs/web.md "Digest links").

The action's link is signed with a key kept in the database (store/marks.py),
so a forwarded digest cannot be edited into marking another hit. It opens a
confirmation page whose one button posts the mark: a mail scanner that
fetches every link in a message marks nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from watcher.config.load import Config
from watcher.models import HitLinks
from watcher.store import Store

NOT_RELEVANT = "not-relevant"  # the action, as the link's path names it


def hit_url(config: Config, hit_id: int) -> str:
    """The hit's page on the web desk."""
    return f"{config.web.url}/hits/{hit_id}"


def not_relevant_url(config: Config, store: Store, hit_id: int) -> str:
    """The signed link that offers to mark the hit not relevant."""
    signature = store.marks.sign(hit_id, NOT_RELEVANT)
    return f"{hit_url(config, hit_id)}/{NOT_RELEVANT}?sig={signature}"


def verify_link(store: Store, hit_id: int, action: str, signature: str) -> bool:
    """Whether a link's signature was made by this database for this action on this hit."""
    return store.marks.verify(hit_id, action, signature)


def hit_links(config: Config, store: Store, hit_ids: Iterable[int]) -> dict[int, HitLinks]:
    """The links of each hit of a digest."""
    return {
        hit_id: HitLinks(hit_url(config, hit_id), not_relevant_url(config, store, hit_id))
        for hit_id in hit_ids
    }
