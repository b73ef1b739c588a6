"""The [[feeds]] of the config file as a list the user edits from the command line.

The config file stays the one source of truth: `watcher feeds add|remove|
enable|disable|import` edit it with tomlkit, which keeps its comments and
layout, and every edit is validated before it atomically replaces the file.
A running service picks edits up on SIGHUP. OPML (the outline format every
feed reader imports and exports) converts to and from the list.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import tomlkit
from tomlkit.items import AoT

from watcher.config import Config, load_config
from watcher.errors import ConfigError


@dataclass(frozen=True)
class NewFeed:
    name: str
    url: str


def _edit(path: Path, change: Callable[[AoT], None]) -> None:
    """Apply `change` to the [[feeds]] array of the file, validate, replace atomically."""
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    feeds = document.get("feeds")
    if feeds is None:
        feeds = tomlkit.aot()
        document.append("feeds", feeds)
    change(feeds)
    edited = path.with_name(f".{path.name}.edit")
    edited.write_text(tomlkit.dumps(document), encoding="utf-8")
    try:
        load_config(edited)
        os.replace(edited, path)
    finally:
        edited.unlink(missing_ok=True)


def set_feed_enabled(path: str | os.PathLike[str], name: str, enabled: bool) -> None:
    """Enable or disable a feed (`enabled = false` in its table; enabled is the default)."""
    load_config(path).select_feeds([name])  # names the feed if it does not exist

    def change(feeds: AoT) -> None:
        for table in feeds:
            if table["name"] == name:
                if enabled:
                    table.pop("enabled", None)
                else:
                    table["enabled"] = False

    _edit(Path(path), change)


def remove_feed(path: str | os.PathLike[str], name: str) -> None:
    """Remove a feed's [[feeds]] table (its stored articles and hits stay)."""
    load_config(path).select_feeds([name])

    def change(feeds: AoT) -> None:
        keep = [table for table in feeds if table["name"] != name]
        feeds.clear()
        for table in keep:
            feeds.append(table)

    _edit(Path(path), change)


def add_feeds(path: str | os.PathLike[str], new: Sequence[NewFeed]) -> list[NewFeed]:
    """Append feeds whose name and URL are not in the file yet; return those added."""
    config = load_config(path)
    names = {feed.name for feed in config.feeds}
    urls = {feed.url for feed in config.feeds}
    added = []
    for feed in new:
        if feed.url in urls:
            continue
        name = _unique(feed.name, names)
        names.add(name)
        urls.add(feed.url)
        added.append(NewFeed(name, feed.url))

    def change(feeds: AoT) -> None:
        for feed in added:
            table = tomlkit.table()
            table["name"] = feed.name
            table["url"] = feed.url
            feeds.append(table)

    if added:
        _edit(Path(path), change)
    return added


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name} ({number})", number + 1
    return candidate


def to_opml(config: Config) -> str:
    """The configured feeds as an OPML 2.0 subscription list."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head><title>watcher feeds</title></head>",
        "  <body>",
    ]
    for feed in config.feeds:
        lines.append(
            f'    <outline type="rss" text={quoteattr(feed.name)} title={quoteattr(feed.name)}'
            f" xmlUrl={quoteattr(feed.url)}/>"
        )
    lines += ["  </body>", "</opml>"]
    return "\n".join(lines)


def from_opml(content: bytes, source: str) -> list[NewFeed]:
    """The feeds of an OPML file (outlines with an xmlUrl, at any depth)."""
    try:
        root = ElementTree.fromstring(content)  # the stdlib parser expands no external entities
    except ElementTree.ParseError as exc:
        raise ConfigError(f"{source}: not an OPML file: {exc}") from None
    if root.tag != "opml":
        raise ConfigError(f"{source}: not an OPML file: root element is <{root.tag}>")
    found = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        if url.startswith(("http://", "https://")):
            name = (outline.get("title") or outline.get("text") or url).strip()
            found.append(NewFeed(" ".join(name.split()), url))
    return found
