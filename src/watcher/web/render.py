"""Pages from Jinja2 templates, HTML autoescaped; feed text printed as inert data."""

from __future__ import annotations

from typing import Any

import jinja2
import markupsafe

from watcher.delivery.digest import link, reported, segments
from watcher.ops.text import UNPRINTABLE


def _printable(value: Any) -> Any:
    """Every printed value without control characters or bidi overrides (as the digests);
    escaping is autoescape's, so markup in feed text shows as text."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return UNPRINTABLE.sub("", value)
    return value


def minute(stamp: str | None) -> str:
    """ "2026-11-23 10:00" from a stored ISO 8601 time (UTC)."""
    return (stamp or "")[:16].replace("T", " ")


TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("watcher.web", "templates"),
    finalize=_printable,
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
TEMPLATES.globals.update(segments=segments, link=link, minute=minute, reported=reported)


def page(name: str, values: dict[str, Any]) -> str:
    return TEMPLATES.get_template(name).render(values)
