"""A channel's digest: its hits grouped by term, then story, newest first, and rendered.

Pure functions of their inputs: `build` groups stored hits into a `Digest`,
`render` turns it into a subject line, plain text and HTML (Jinja2, HTML
autoescaped), and `to_json` into the webhook body (docs/webhooks.md).
Picking which hits a channel gets is the outbox's job (store/outbox.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import markupsafe

from watcher.models import Digest, FeedStatus, Hit, HitLinks, Story, TermGroup
from watcher.ops.text import LINE_BREAKS, UNPRINTABLE

SUBJECT_TITLE_CHARS = 90
NAMED_OUTLETS = 5  # "reported by 7 outlets: A, B, C, D, E and 2 more"


def _printable(value: Any) -> Any:
    """Every value a template prints, without control characters (a NUL ends some
    mail clients' reading) or bidi overrides; the templates' own markup stays."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return UNPRINTABLE.sub("", value)
    return value


_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("watcher.delivery", "templates"),
    finalize=_printable,
    autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class Rendered:
    """A digest as a message: what the email or chat message says."""

    subject: str
    text: str
    html: str


def build(
    digest_id: str,
    channel: str,
    created_at: str,
    hits: Sequence[Hit],
    failing: Sequence[FeedStatus] = (),
    term_order: Sequence[str] = (),
    timezone: str = "UTC",
    links: Mapping[int, HitLinks] | None = None,
) -> Digest:
    """Group hits by term (in `term_order`, then by name), then by story, newest first.

    `timezone` is the channel's: the digest shows its times there. `links` are
    each hit's links to the web desk (delivery/links.py), by hit id.
    """
    by_term: dict[str, list[Hit]] = {}
    newest_first = sorted(hits, key=lambda hit: (hit.published or hit.found_at, hit.id))[::-1]
    for hit in newest_first:
        by_term.setdefault(hit.term, []).append(hit)
    rank = {term: index for index, term in enumerate(term_order)}
    groups = []
    for term in sorted(by_term, key=lambda term: (rank.get(term, len(rank)), term)):
        stories: dict[object, list[Hit]] = {}
        for hit in by_term[term]:
            key = hit.cluster if hit.cluster is not None else ("hit", hit.id)
            stories.setdefault(key, []).append(hit)
        groups.append(
            TermGroup(
                term=term,
                stories=tuple(
                    Story(
                        cluster=copies[0].cluster,
                        outlets=max(hit.outlets for hit in copies),
                        hits=tuple(copies),
                        outlet_names=tuple(
                            sorted({name for hit in copies for name in hit.outlet_names})
                        ),
                    )
                    for copies in stories.values()
                ),
            )
        )
    return Digest(
        id=digest_id,
        channel=channel,
        created_at=created_at,
        groups=tuple(groups),
        failing=tuple(failing),
        timezone=timezone,
        links=dict(links or {}),
    )


def long_failing(
    feeds: Sequence[FeedStatus], now: datetime, notice: timedelta
) -> tuple[FeedStatus, ...]:
    """The enabled feeds that have been failing for longer than `notice`."""
    return tuple(
        feed
        for feed in feeds
        if feed.enabled
        and feed.failing_since
        and now - datetime.fromisoformat(feed.failing_since) >= notice
    )


def one_line(text: str) -> str:
    """Text safe for a header or a subject: no line breaks, control characters or bidi
    overrides and isolates (which make a subject read differently from what it holds)."""
    return " ".join(UNPRINTABLE.sub("", LINE_BREAKS.sub(" ", text)).split())


def subject(digest: Digest) -> str:
    """ "watcher: 5 new hits (UNICORN antenna 3, AI Dialogue 2)"; one hit names its title."""
    if digest.hits == 0:
        return "watcher: no new hits"
    if digest.hits == 1:
        group = digest.groups[0]
        title = one_line(group.stories[0].hits[0].title)
        if len(title) > SUBJECT_TITLE_CHARS:
            title = title[: SUBJECT_TITLE_CHARS - 1].rstrip() + "…"
        return f"watcher: {one_line(group.term)}: {title}"
    counts = ", ".join(f"{one_line(group.term)} {group.hits}" for group in digest.groups)
    return f"watcher: {digest.hits} new hits ({counts})"


def segments(snippet: str, highlights: Sequence[Sequence[int]]) -> list[tuple[str, bool]]:
    """The snippet cut into (text, highlighted) runs, for <mark> in HTML and *...* in text."""
    runs: list[tuple[str, bool]] = []
    position = 0
    for start, end in sorted((int(span[0]), int(span[1])) for span in highlights):
        start, end = max(start, position), min(end, len(snippet))
        if start >= end:
            continue
        if start > position:
            runs.append((snippet[position:start], False))
        runs.append((snippet[start:end], True))
        position = end
    if position < len(snippet):
        runs.append((snippet[position:], False))
    return runs


def starred(snippet: str, highlights: Sequence[Sequence[int]]) -> str:
    """The snippet on one line with its highlights in *stars*, for plain text."""
    runs = segments(snippet, highlights)
    return one_line("".join(f"*{text}*" if marked else text for text, marked in runs))


def render(digest: Digest) -> Rendered:
    """The digest as a subject line, plain text and HTML."""
    line = subject(digest)
    values = {
        "digest": digest,
        "subject": line,
        "segments": segments,
        "starred": starred,
        "day": lambda moment: _day(moment, digest.timezone),
        "reported": reported,
        "one_line": one_line,
        "link": link,
    }
    return Rendered(
        subject=line,
        text=_TEMPLATES.get_template("digest.txt.j2").render(values),
        html=_TEMPLATES.get_template("digest.html.j2").render(values),
    )


def link(url: str | None) -> str:
    """An article URL fit for href: http(s) only, so a feed cannot plant javascript: links."""
    return url if url and url.lower().startswith(("https://", "http://")) else "#"


def reported(story: Story) -> str:
    """ "reported by 3 outlets: A, B and C", naming up to `NAMED_OUTLETS` of them."""
    names = [one_line(name) for name in story.outlet_names]
    count = max(story.outlets, len(names))
    if not names:
        return f"reported by {count} outlets"
    shown = names[:NAMED_OUTLETS]
    if count > len(shown):
        listed = ", ".join(shown) + f" and {count - len(shown)} more"
    else:
        listed = ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0]
    return f"reported by {count} outlets: {listed}"


def _day(moment: str | None, timezone: str = "UTC") -> str:
    """ "2026-11-24 01:01 IST" from a stored ISO 8601 time, in the channel's time zone."""
    if not moment:
        return ""
    local = datetime.fromisoformat(moment).astimezone(ZoneInfo(timezone))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or timezone)


def to_json(digest: Digest) -> dict[str, Any]:
    """The webhook body (docs/webhooks.md, docs/webhook.schema.json)."""
    return {
        "type": "watcher.digest",
        "timestamp": digest.created_at,
        "data": {
            "id": digest.id,
            "channel": digest.channel,
            "hit_count": digest.hits,
            "terms": [
                {
                    "term": group.term,
                    "hit_count": group.hits,
                    "stories": [
                        {
                            "cluster": story.cluster,
                            "outlets": story.outlets,
                            "hits": [_hit_json(hit, digest.links) for hit in story.hits],
                        }
                        for story in group.stories
                    ],
                }
                for group in digest.groups
            ],
            "failing_feeds": [
                {
                    "name": feed.name,
                    "url": feed.url,
                    "failing_since": feed.failing_since,
                    "consecutive_errors": feed.consecutive_errors,
                    "last_error": feed.last_error,
                }
                for feed in digest.failing
            ],
        },
    }


def _hit_json(hit: Hit, all_links: Mapping[int, HitLinks]) -> dict[str, Any]:
    links = all_links.get(hit.id)
    return {
        "id": hit.id,
        "title": hit.title,
        "url": hit.url if link(hit.url) != "#" else None,  # http(s) only, as in the HTML
        "feed": hit.feed,
        "published": hit.published,
        "found_at": hit.found_at,
        "score": hit.score,
        "snippet": hit.snippet,
        "highlights": hit.highlights,
        "clauses": hit.clauses,
        "source": hit.source,
        "page_url": links.page if links else None,
        "not_relevant_url": links.not_relevant if links else None,
    }
