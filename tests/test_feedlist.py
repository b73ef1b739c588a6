"""Editing [[feeds]] in the config file, and OPML in and out."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.config.edit import (
    NewFeed,
    add_feeds,
    from_opml,
    remove_feed,
    set_feed_enabled,
    to_opml,
)
from watcher.config.load import load_config
from watcher.errors import ConfigError

START = (
    "# watcher config\n"
    "[[feeds]]\n"
    'name = "Wire"  # the fast one\n'
    'url = "https://wire.example/rss"\n'
    "\n"
    "# --- watch-terms ---\n"
)


def config(tmp_path: Path, text: str = START) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_text(text)
    return path


def test_added_feeds_follow_the_existing_ones_and_comments_stay(tmp_path: Path) -> None:
    path = config(tmp_path)

    added = add_feeds(path, [NewFeed("Ministry", "https://gov.example/press.xml")])

    assert added == [NewFeed("Ministry", "https://gov.example/press.xml")]
    assert [(f.name, f.url) for f in load_config(path).feeds] == [
        ("Wire", "https://wire.example/rss"),
        ("Ministry", "https://gov.example/press.xml"),
    ]
    assert path.read_text().startswith(
        '# watcher config\n[[feeds]]\nname = "Wire"  # the fast one\n'
    )


def test_a_url_already_configured_is_not_added_twice(tmp_path: Path) -> None:
    path = config(tmp_path)

    assert add_feeds(path, [NewFeed("Wire again", "https://wire.example/rss")]) == []
    assert path.read_text() == START


def test_a_taken_name_is_refused_and_the_file_left_alone(tmp_path: Path) -> None:
    path = config(tmp_path)

    with pytest.raises(ConfigError, match="a feed named 'Wire' is already configured"):
        add_feeds(path, [NewFeed("Wire", "https://other.example/rss")])
    assert path.read_text() == START


LAYOUT = (
    "# --- feeds ---\n"
    "\n"
    "[[feeds]]\n"
    'name = "Wire"\n'
    'url = "https://wire.example/rss"\n'
    "\n"
    "# Ministry: the press office's feed.\n"
    "[[feeds]]\n"
    'name = "Ministry"\n'
    'url = "https://gov.example/press.xml"\n'
    'interval = "1h"  # slow\n'
    "\n"
    "# ==========\n"
    "# --- watch-terms ---\n"
    "# ==========\n"
    "\n"
    "[[terms]]\n"
    'name = "Port"\n'
    'query = "port"\n'
)


def test_an_added_feed_follows_the_last_feed_not_the_terms_banner(tmp_path: Path) -> None:
    path = config(tmp_path, LAYOUT)

    add_feeds(path, [NewFeed("Harbour", "https://harbour.example/feed")])

    assert path.read_text() == LAYOUT.replace(
        'interval = "1h"  # slow\n',
        'interval = "1h"  # slow\n\n[[feeds]]\nname = "Harbour"\nurl = "https://harbour.example/feed"\n',
    )


def test_disabling_writes_the_switch_inside_the_feeds_own_table(tmp_path: Path) -> None:
    path = config(tmp_path, LAYOUT)

    set_feed_enabled(path, "Wire", enabled=False)
    set_feed_enabled(path, "Ministry", enabled=False)

    assert path.read_text() == LAYOUT.replace(
        'url = "https://wire.example/rss"\n', 'url = "https://wire.example/rss"\nenabled = false\n'
    ).replace('interval = "1h"  # slow\n', 'interval = "1h"  # slow\nenabled = false\n')
    set_feed_enabled(path, "Wire", enabled=True)
    set_feed_enabled(path, "Ministry", enabled=True)
    assert path.read_text() == LAYOUT


def test_removing_a_feed_keeps_the_comments_and_blank_lines_around_it(tmp_path: Path) -> None:
    path = config(tmp_path, LAYOUT)

    remove_feed(path, "Wire")

    assert path.read_text() == LAYOUT.replace(
        '[[feeds]]\nname = "Wire"\nurl = "https://wire.example/rss"\n\n', ""
    )


def test_first_feed_goes_into_a_file_without_feeds(tmp_path: Path) -> None:
    path = config(tmp_path, '[poll]\ninterval = "15m"\n')

    add_feeds(path, [NewFeed("Wire", "https://wire.example/rss")])

    assert [f.name for f in load_config(path).feeds] == ["Wire"]


def test_removing_a_feed_keeps_the_others(tmp_path: Path) -> None:
    path = config(tmp_path)
    add_feeds(path, [NewFeed("Ministry", "https://gov.example/press.xml")])

    remove_feed(path, "Wire")

    assert [f.name for f in load_config(path).feeds] == ["Ministry"]


def test_removing_an_unknown_feed_is_a_config_error(tmp_path: Path) -> None:
    path = config(tmp_path)

    with pytest.raises(ConfigError, match="no feed named 'Nope'"):
        remove_feed(path, "Nope")
    assert path.read_text() == START


def test_opml_export_reads_back_as_the_same_feeds(tmp_path: Path) -> None:
    path = config(tmp_path)
    add_feeds(path, [NewFeed('Quotes "and" <tags>', "https://q.example/feed?a=1&b=2")])

    feeds = from_opml(to_opml(load_config(path)).encode(), "export.opml")

    assert feeds == [
        NewFeed("Wire", "https://wire.example/rss"),
        NewFeed('Quotes "and" <tags>', "https://q.example/feed?a=1&b=2"),
    ]


def test_opml_outlines_nested_in_folders_are_found() -> None:
    opml = (
        b'<?xml version="1.0"?><opml version="1.0"><body>'
        b'<outline text="India"><outline text="Desk" xmlUrl="https://desk.example/rss"/>'
        b'<outline text="No feed here"/></outline>'
        b'<outline title="Tokyo" xmlUrl="https://tokyo.example/atom"/></body></opml>'
    )

    assert from_opml(opml, "reader.opml") == [
        NewFeed("Desk", "https://desk.example/rss"),
        NewFeed("Tokyo", "https://tokyo.example/atom"),
    ]


def test_a_file_that_is_not_opml_is_named_in_the_error() -> None:
    with pytest.raises(ConfigError, match=r"^reader\.opml: not an OPML file"):
        from_opml(b"<html><body>hi</body></html>", "reader.opml")
