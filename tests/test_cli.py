"""The command line: help, errors as one line with an exit code, output formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from conftest import Site, write_config
from watcher.cli import cli


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(commands(command, path))
    return found


@pytest.mark.parametrize("path", commands(cli), ids=" ".join)
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = invoke(*path, "--help")

    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "watcher " + " ".join(path) in result.output


def test_bad_config_is_one_line_naming_file_line_and_field(tmp_path: Path) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text('[[feeds]]\nname = "A"\nurl = "https://a.example/feed"\nintervall = "5m"\n')

    result = invoke("--config", str(config), "feeds", "list")

    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert result.output.startswith(f"error: {config}:4: feeds[0].intervall: unknown key")


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = invoke("--config", str(tmp_path / "nope.toml"), "hits")

    assert result.exit_code == 2
    assert result.output == f"error: {tmp_path / 'nope.toml'}: config file not found\n"


def test_config_comes_from_the_environment_variable(tmp_path: Path) -> None:
    config = write_config(tmp_path, [("Only Feed", "https://a.example/feed")])

    result = CliRunner(env={"WATCHER_CONFIG": str(config)}).invoke(
        cli, ["feeds", "list", "--format", "csv"], catch_exceptions=False
    )

    assert result.exit_code == 0
    assert result.output.splitlines()[1].startswith("Only Feed,https://a.example/feed,")


def test_polling_an_unknown_feed_name_is_a_config_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, [("Only Feed", "https://a.example/feed")])

    result = invoke("--config", str(config), "poll", "--once", "--feed", "Other")

    assert result.exit_code == 2
    assert "no feed named 'Other'" in result.output


def test_since_that_is_neither_duration_nor_date_is_a_usage_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, [("Only Feed", "https://a.example/feed")])

    result = invoke("--config", str(config), "hits", "--since", "last week")

    assert result.exit_code == 2
    assert "'last week' is neither a duration (7d, 36h) nor a date" in result.output


@pytest.mark.slow
def test_poll_exits_1_when_no_feed_could_be_polled(tmp_path: Path) -> None:
    config = write_config(tmp_path, [("Closed", "http://127.0.0.1:9/feed.xml")])

    result = invoke("--config", str(config), "poll", "--once")

    assert result.exit_code == 1
    assert "failed: Closed: http://127.0.0.1:9/feed.xml: cannot connect" in result.output
    assert "polled 1 feeds: 0 ok (0 unchanged), 1 failed" in result.output


@pytest.mark.slow
def test_poll_exits_0_when_some_feeds_fail(site_config: Path, fixture_site: Site) -> None:
    text = site_config.read_text()
    site_config.write_text(
        text.replace(
            "[[terms]]", '[[feeds]]\nname = "Gone"\nurl = "http://127.0.0.1:9/x"\n\n[[terms]]', 1
        )
    )

    result = invoke("--config", str(site_config), "poll", "--once")

    assert result.exit_code == 0
    assert "polled 4 feeds: 3 ok (0 unchanged), 1 failed" in result.output


@pytest.mark.slow
def test_hits_csv_has_a_header_and_one_row_per_hit(site_config: Path) -> None:
    invoke("--config", str(site_config), "poll", "--once")

    lines = invoke("--config", str(site_config), "hits", "--format", "csv").output.splitlines()

    assert lines[0] == (
        "id,term,score,published,found_at,feed,title,url,snippet,source,cluster,outlets,clauses,highlights"
    )
    assert len(lines) == 6


@pytest.mark.slow
def test_hits_ndjson_is_one_object_per_line(site_config: Path) -> None:
    invoke("--config", str(site_config), "poll", "--once")

    lines = invoke("--config", str(site_config), "hits", "--format", "ndjson").output.splitlines()

    assert len(lines) == 5
    assert all(line.startswith('{"id": ') for line in lines)


def test_python_dash_m_runs_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "watcher", "--help"], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0
    assert "Monitor news feeds for watch-terms" in result.stdout


def test_terms_list_shows_the_shipped_terms() -> None:
    result = invoke("--config", "config/watcher.toml", "terms", "list", "--format", "json")

    assert [term["name"] for term in json.loads(result.output)] == [
        "JWG on critical minerals",
        "India–Japan AI Dialogue",
        "UNICORN antenna",
        "Ahmedabad–Mumbai HSR",
    ]


def test_terms_test_marks_the_matches_and_names_the_clauses(tmp_path: Path) -> None:
    config = write_config(tmp_path, [("Only Feed", "https://a.example/feed")])

    result = invoke(
        "--config", str(config), "terms", "test", "=UNICORN NEAR/5 (mast OR antenna*)",
        "--text", "A unicorn startup. The Navy fits the UNICORN stealth antennas on frigates.",
    )  # fmt: skip

    assert result.exit_code == 0
    assert "matched: =UNICORN, antenna*" in result.output
    assert "The Navy fits the **UNICORN** stealth **antennas** on frigates." in result.output


def test_terms_test_expands_the_configs_aliases_in_a_query(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, [("Only Feed", "https://a.example/feed")],
        extra="[aliases]\nrail = '\"bullet train\" OR Shinkansen'",
    )  # fmt: skip

    result = invoke(
        "--config", str(config), "terms", "test", "@rail /s Ahmedabad",
        "--text", "The Shinkansen cars for Ahmedabad arrive next year.",
    )  # fmt: skip

    assert result.exit_code == 0
    assert "matched: Shinkansen, Ahmedabad" in result.output


def test_terms_test_exits_1_when_nothing_matches() -> None:
    result = invoke(
        "--config", "config/watcher.toml", "terms", "test", "--term", "UNICORN antenna",
        "--text", "Another startup became a unicorn this week.",
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.output.startswith("no match\nwhy UNICORN antenna does not match:\n")
    assert "  not found  =UNICORN\n" in result.output


def test_terms_test_reports_a_bad_query_with_its_position() -> None:
    result = invoke("--config", "config/watcher.toml", "terms", "test", "a NEAR b", "--text", "x")

    assert result.exit_code == 2
    assert result.output == "error: at 3: NEAR needs a distance in words, like NEAR/5\n"


def test_terms_test_needs_exactly_one_text_source() -> None:
    result = invoke("--config", "config/watcher.toml", "terms", "test", "JWG")

    assert result.exit_code == 2
    assert "give exactly one of --text, --file or --url" in result.output


@pytest.mark.slow
def test_terms_test_fetches_and_extracts_a_page(site_config: Path, fixture_site: Site) -> None:
    result = invoke(
        "--config", str(site_config), "terms", "test", "--term", "UNICORN antenna",
        "--url", f"{fixture_site.base}/articles/a4.html",
    )  # fmt: skip

    assert result.exit_code == 0
    assert "**Unified Complex Radio Antenna**" in result.output


def test_disabling_a_feed_edits_the_config_and_keeps_its_comments(tmp_path: Path) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text(
        "# my feeds\n"
        '[[feeds]]\nname = "A"  # the wire\nurl = "https://a.example/feed"\n\n'
        '[[feeds]]\nname = "B"\nurl = "https://b.example/feed"\n'
    )

    disabled = invoke("--config", str(config), "feeds", "disable", "B")
    listed = json.loads(invoke("--config", str(config), "feeds", "list", "--format", "json").output)

    assert disabled.output == f"disabled 'B' in {config}\n"
    assert [(feed["name"], feed["enabled"]) for feed in listed] == [("A", True), ("B", False)]
    assert config.read_text().startswith('# my feeds\n[[feeds]]\nname = "A"  # the wire\n')


def test_enabling_a_feed_removes_the_switch(tmp_path: Path) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text('[[feeds]]\nname = "B"\nurl = "https://b.example/feed"\nenabled = false\n')

    invoke("--config", str(config), "feeds", "enable", "B")

    assert config.read_text() == '[[feeds]]\nname = "B"\nurl = "https://b.example/feed"\n'


def test_disabling_an_unknown_feed_changes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "watcher.toml"
    text = '[[feeds]]\nname = "B"\nurl = "https://b.example/feed"\n'
    config.write_text(text)

    result = invoke("--config", str(config), "feeds", "disable", "C")

    assert result.exit_code == 2
    assert "no feed named 'C'" in result.output
    assert config.read_text() == text


@pytest.mark.slow
def test_feeds_add_resolves_a_site_to_the_feed_it_announces(site: Site, tmp_path: Path) -> None:
    site.put(
        "/",
        f'<html><head><link rel="alternate" type="application/atom+xml" href="{site.base}/w.atom">'
        "</head><body>home</body></html>",
        "text/html",
    )
    site.put(
        "/w.atom",
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Eastern Ledger</title></feed>',
    )
    config = write_config(tmp_path, [("Other", f"{site.base}/other.rss")])

    result = invoke("--config", str(config), "feeds", "add", f"{site.base}/")
    again = invoke("--config", str(config), "feeds", "add", f"{site.base}/w.atom")

    assert result.output == f"added 'Eastern Ledger': {site.base}/w.atom to {config}\n"
    assert again.output == f"{site.base}/w.atom is already in {config}\n"
    listed = json.loads(invoke("--config", str(config), "feeds", "list", "--format", "json").output)
    assert [feed["name"] for feed in listed] == ["Other", "Eastern Ledger"]


@pytest.mark.slow
def test_feeds_add_of_a_page_without_feeds_says_so(site: Site, tmp_path: Path) -> None:
    site.put("/", "<html><body>no feeds</body></html>", "text/html")
    config = write_config(tmp_path, [("Other", f"{site.base}/other.rss")])

    result = invoke("--config", str(config), "feeds", "add", f"{site.base}/")

    assert result.exit_code == 1
    assert result.output == f"error: {site.base}/: neither a feed nor a page that links to one\n"


def test_feeds_import_and_export_round_trip(tmp_path: Path) -> None:
    source = write_config(
        tmp_path, [("A", "https://a.example/rss"), ("B", "https://b.example/rss")]
    )
    exported = tmp_path / "feeds.opml"
    exported.write_text(invoke("--config", str(source), "feeds", "export").output)
    target = tmp_path / "other.toml"
    target.write_text('[[feeds]]\nname = "B"\nurl = "https://b.example/rss"\n')

    result = invoke("--config", str(target), "feeds", "import", str(exported))

    assert result.output == f"added 'A': https://a.example/rss\n1 feeds added to {target}\n"
