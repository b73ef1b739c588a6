"""The [[feeds]] of the config file as a list the user edits from the command line.

The config file stays the one source of truth: `watcher feeds add|remove|
enable|disable|import` edit its lines inside the feed's own table (tomlkit
writes the values), so comments, banners and blank lines stay where they
were, and every edit is validated before it atomically replaces the file.
A running service picks edits up on SIGHUP. OPML (the outline format every
feed reader imports and exports) converts to and from the list.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import tomlkit

from watcher.config.load import Config, load_config
from watcher.errors import ConfigError


@dataclass(frozen=True)
class NewFeed:
    name: str
    url: str


# A table header line ("[[feeds]]", "[poll]"); a commented-out one is not.
_HEADER = re.compile(r"^\s*\[")
_FEEDS_HEADER = re.compile(r"^\s*\[\[\s*feeds\s*\]\]\s*(#.*)?$")


def _content(line: str) -> bool:
    """Whether a line holds TOML (a key, a value's continuation), not blank or a comment."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _tables(lines: list[str]) -> list[tuple[int, int]]:
    """(header, end) of each [[feeds]] table: `end` follows its last line of TOML.

    Blank lines and comments after a table's last key belong to what follows
    (a banner, a commented-out feed, the next table), so edits stop before them.
    """
    spans = []
    for number, line in enumerate(lines):
        if _FEEDS_HEADER.match(line):
            end = number + 1
            for following in range(number + 1, len(lines)):
                if _HEADER.match(lines[following]):
                    break
                if _content(lines[following]):
                    end = following + 1
            spans.append((number, end))
    return spans


def _edit(path: Path, change: Callable[[list[str], list[tuple[int, int]]], list[str]]) -> None:
    """Apply `change` to the file's lines, validate, replace the file atomically.

    Edits are made on the text, line by line, so every comment, blank line and
    banner stays where the user put it; `load_config` checks the result.
    """
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    tables = _tables(lines)
    if len(tables) != len(load_config(path).feeds):
        raise ConfigError(f"{path}: cannot edit feeds not written as [[feeds]] tables")
    edited_lines = change(lines, tables)
    edited = path.with_name(f".{path.name}.edit")
    edited.write_text("".join(edited_lines), encoding="utf-8")
    try:
        load_config(edited)
        os.replace(edited, path)
    finally:
        edited.unlink(missing_ok=True)


def _index(path: str | os.PathLike[str], name: str) -> int:
    """The position of the named feed among the [[feeds]] tables; a `ConfigError` if none."""
    config = load_config(path)
    config.select_feeds([name])  # names the feed if it does not exist
    return [feed.name for feed in config.feeds].index(name)


def _toml(value: str | bool) -> str:
    return tomlkit.item(value).as_string()


def set_feed_enabled(path: str | os.PathLike[str], name: str, enabled: bool) -> None:
    """Enable or disable a feed (`enabled = false` in its table; enabled is the default)."""
    index = _index(path, name)

    def change(lines: list[str], tables: list[tuple[int, int]]) -> list[str]:
        header, end = tables[index]
        switch = re.compile(r"^\s*enabled\s*=")
        kept = [n for n in range(header + 1, end) if not switch.match(lines[n])]
        body = [lines[n] for n in kept]
        if not enabled:
            last = max((i for i, line in enumerate(body) if _content(line)), default=-1)
            body.insert(last + 1, "enabled = false\n")
        return [*lines[: header + 1], *body, *lines[end:]]

    _edit(Path(path), change)


def remove_feed(path: str | os.PathLike[str], name: str) -> None:
    """Remove a feed's [[feeds]] table (its stored articles and hits stay)."""
    index = _index(path, name)

    def change(lines: list[str], tables: list[tuple[int, int]]) -> list[str]:
        header, end = tables[index]
        if (
            end < len(lines)
            and not lines[end].strip()
            and (header == 0 or not lines[header - 1].strip())
        ):
            end += 1  # the blank line that parted it from the next one goes with it
        return [*lines[:header], *lines[end:]]

    _edit(Path(path), change)


def add_feeds(path: str | os.PathLike[str], new: Sequence[NewFeed]) -> list[NewFeed]:
    """Append feeds whose URL is not in the file yet after the last feed; return those added.

    A name another feed has is refused (a `ConfigError`), not changed.
    """
    config = load_config(path)
    names = {feed.name: feed.url for feed in config.feeds}
    urls = {feed.url for feed in config.feeds}
    added = []
    for feed in new:
        if feed.url in urls:
            continue
        if feed.name in names:
            raise ConfigError(
                f"{config.path}: a feed named {feed.name!r} is already configured"
                f" ({names[feed.name]}): choose another name (--name)"
            )
        names[feed.name] = feed.url
        urls.add(feed.url)
        added.append(feed)

    def change(lines: list[str], tables: list[tuple[int, int]]) -> list[str]:
        block = []
        for feed in added:
            block += [
                "\n",
                "[[feeds]]\n",
                f"name = {_toml(feed.name)}\n",
                f"url = {_toml(feed.url)}\n",
            ]
        if not tables:  # the first feed: at the end of the file
            return [*lines, *block]
        end = tables[-1][1]
        return [*lines[:end], *block, *lines[end:]]

    if added:
        _edit(Path(path), change)
    return added


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


def set_term_query(path: str | os.PathLike[str], name: str, query: str) -> None:
    """Give the named [[terms]] table a new query (the web desk's term editor).

    tomlkit rewrites the one value, so comments and layout stay; the result is
    loaded (the query compiled) before it atomically replaces the file.
    """
    path = Path(path)
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    tables = document.get("terms")
    found = [table for table in tables or () if table.get("name") == name]
    if not found:
        load_config(path).select_terms([name])  # names the known terms
        raise ConfigError(f"{path}: cannot edit term {name!r}: not written as a [[terms]] table")
    query = query.replace("\r\n", "\n").strip()
    # A query over several lines stays one, as a literal string the reader can edit.
    if "\n" in query and "'''" not in query:
        found[0]["query"] = tomlkit.string(query, literal=True, multiline=True)
    else:
        found[0]["query"] = query
    edited = path.with_name(f".{path.name}.edit")
    try:
        edited.write_text(tomlkit.dumps(document), encoding="utf-8")
        try:
            load_config(edited)
            os.replace(edited, path)
        finally:
            edited.unlink(missing_ok=True)
    except OSError as exc:  # a read-only /etc (systemd's ProtectSystem=strict): docs/web.md
        raise ConfigError(f"{path}: cannot write the config: {exc.strerror or exc}") from None
