"""The command line: help, errors as one line with an exit code, output formats."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click
import pytest
from click.testing import CliRunner, Result

from conftest import ROOT, Site, free_port, write_config
from watcher.app.oneshot import poll_once
from watcher.cli import cli
from watcher.config.load import load_config
from watcher.store import open_storage

# The fixture site's feeds, as paths on it (`site_config` names them too).
SITE_FEEDS = [
    ("Coastline Daily", "/news.rss"),
    ("Eastern Ledger", "/world.atom"),
    ("Harbour Wire", "/briefs.json"),
]


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
def test_poll_exits_1_when_no_feed_could_be_polled(tmp_path: Path, storage_at: str) -> None:
    config = write_config(tmp_path, [("Closed", "http://127.0.0.1:9/feed.xml")], storage=storage_at)

    result = invoke("--config", str(config), "poll", "--once")

    assert result.exit_code == 1
    assert "failed: Closed: http://127.0.0.1:9/feed.xml: cannot connect" in result.output
    assert "polled 1 feed: 0 ok (0 unchanged), 1 failed; 0 new articles" in result.output


@pytest.mark.slow
def test_poll_exits_0_when_some_feeds_fail(
    tmp_path: Path, fixture_site: Site, storage_at: str
) -> None:
    feeds = [(name, f"{fixture_site.base}{path}") for name, path in SITE_FEEDS]
    config = write_config(tmp_path, [*feeds, ("Gone", "http://127.0.0.1:9/x")], storage=storage_at)

    result = invoke("--config", str(config), "poll", "--once")

    assert result.exit_code == 0
    assert result.output.endswith(
        "polled 4 feeds: 3 ok (0 unchanged), 1 failed; 9 new articles, 0 updated, 5 new hits\n"
    )


@pytest.mark.slow
def test_hits_csv_has_a_header_and_one_row_per_hit(tmp_path: Path, polled_at: str) -> None:
    config = write_config(tmp_path, [], storage=polled_at)

    lines = invoke("--config", str(config), "hits", "--format", "csv").output.splitlines()

    assert lines[0] == (
        "id,term,score,published,found_at,feed,title,url,snippet,source,cluster,outlets,clauses,highlights,"
        "read,verdict,muted,snoozed"
    )
    assert len(lines) == 6


@pytest.mark.slow
def test_hits_ndjson_is_one_object_per_line(tmp_path: Path, polled_at: str) -> None:
    config = write_config(tmp_path, [], storage=polled_at)

    lines = invoke("--config", str(config), "hits", "--format", "ndjson").output.splitlines()

    assert len(lines) == 5
    assert all(line.startswith('{"id": ') for line in lines)


@pytest.mark.slow
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

    assert result.output == f"added 'A': https://a.example/rss\n1 feed added to {target}\n"


@pytest.mark.parametrize(
    "args",
    [
        ("feeds", "list", "--config", "{config}", "--format", "csv"),
        ("feeds", "list", "--format", "csv", "--config={config}"),
        ("--config", "{elsewhere}", "feeds", "list", "--config", "{config}", "--format", "csv"),
    ],
    ids=["after the command", "as --config=PATH", "the last one wins"],
)
def test_config_may_follow_the_command(tmp_path: Path, args: tuple[str, ...]) -> None:
    config = write_config(tmp_path, [("Only Feed", "https://a.example/feed")])
    paths = {"config": str(config), "elsewhere": str(tmp_path / "nope.toml")}

    result = invoke(*(arg.format(**paths) for arg in args))

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("Only Feed,https://a.example/feed,")


def test_init_writes_the_sample_config_with_its_database_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "etc" / "watcher.toml"

    result = invoke("init", str(target))

    shipped = load_config(ROOT / "config" / "watcher.toml")
    written = load_config(target)
    assert result.exit_code == 0, result.output
    assert written.db_path == tmp_path.resolve() / "etc" / "state" / "watcher.db"
    assert written.feeds == shipped.feeds
    assert [term.name for term in written.terms] == [term.name for term in shipped.terms]


def test_init_writes_the_database_path_it_is_given_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "watcher.toml"

    invoke("--config", str(target), "init", "--db", "/var/lib/watcher/watcher.db")
    text = target.read_text()
    again = invoke("init", str(target))

    assert load_config(target).db_path == Path("/var/lib/watcher/watcher.db")
    assert again.exit_code == 2
    assert again.output == f"error: {target}: already exists; not overwritten\n"
    assert target.read_text() == text


@pytest.mark.slow
def test_a_feed_url_that_serves_a_web_page_names_the_feeds_the_page_announces(
    site: Site, tmp_path: Path
) -> None:
    site.put(
        "/",
        '<!DOCTYPE html>\n<html><head><link rel="alternate" type="application/rss+xml"'
        ' href="/news.rss"></head><body><p>Coastline Daily</p></body></html>',
        "text/html",
    )
    config = write_config(tmp_path, [("Coastline Daily", f"{site.base}/")])

    result = invoke("poll", "--once", "--config", str(config))

    assert result.exit_code == 1
    assert (
        f"failed: Coastline Daily: {site.base}/: not a feed: this is an HTML page; "
        f"it announces these feeds: {site.base}/news.rss\n"
    ) in result.output


def test_terms_list_fits_the_terminal_width() -> None:
    result = CliRunner(env={"COLUMNS": "60"}).invoke(
        cli, ["--config", "config/watcher.toml", "terms", "list"], catch_exceptions=False
    )

    lines = result.output.splitlines()
    assert len(lines) == 6
    assert max(len(line) for line in lines) <= 60


def test_delivered_and_undelivered_together_are_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, [("Only Feed", "https://a.example/feed")])

    result = invoke("--config", str(config), "hits", "--delivered", "--undelivered")

    assert result.exit_code == 2
    assert result.output == "error: --delivered and --undelivered exclude each other: give one\n"


@pytest.mark.slow
def test_ctrl_c_exits_130_without_a_traceback(tmp_path: Path, storage_at: str) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        config = write_config(
            tmp_path,
            [("Silent", f"http://127.0.0.1:{silent.getsockname()[1]}/feed")],
            storage=storage_at,
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "watcher", "--config", str(config), "poll", "--once"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Interrupted once it waits for the feed (its connection arrived), not after a fixed
        # sleep: on a loaded machine, 3 s ended some runs while Python was still importing.
        silent.settimeout(60)
        connection, _ = silent.accept()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        connection.close()

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "Aborted" not in stderr


@pytest.mark.slow
def test_a_poll_interrupted_at_any_step_ends_cancelled_once(
    tmp_path: Path, storage_at: str
) -> None:
    # asyncio.run turns Ctrl-C into a cancel of its task, and back into KeyboardInterrupt
    # (exit 130) only if the task ends cancelled with no other cancel pending: a cleanup
    # that swallowed it would finish the poll as failed (exit 1) instead.
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        feeds = [("Silent", f"http://127.0.0.1:{silent.getsockname()[1]}/")]
        config = load_config(write_config(tmp_path, feeds, storage=storage_at))

        async def interrupted(steps: int) -> tuple[str, int]:
            poll = asyncio.ensure_future(poll_once(config, config.feeds, workers=0))
            for _ in range(steps):  # the poll's own steps run between these
                await asyncio.sleep(0)
            poll.cancel()
            try:
                await poll
            except asyncio.CancelledError:
                return "cancelled", poll.cancelling()
            return "finished", poll.cancelling()

        outcomes = {steps: asyncio.run(interrupted(steps)) for steps in (0, 1, 2, 3, 5, 8, 13, 40)}

    assert outcomes == dict.fromkeys(outcomes, ("cancelled", 1))


@pytest.mark.slow
def test_poll_shows_a_redirect_url_with_its_control_characters_escaped(
    site: Site, tmp_path: Path
) -> None:
    hostile = "gopher://evil.example/\x9b2J\u202eabc".encode().decode("latin-1")
    site.put("/feed.xml", b"", status=302, headers={"Location": hostile})
    config = write_config(tmp_path, [("Wire", f"{site.base}/feed.xml")])

    result = invoke("--config", str(config), "poll", "--once")

    assert "\x9b" not in result.output and "\u202e" not in result.output
    assert "failed: Wire: gopher://evil.example/\\x9b2J\\u202eabc: only http and https" in (
        result.output
    )


@pytest.mark.slow
def test_status_says_a_killed_service_is_not_running(tmp_path: Path, storage_at: str) -> None:
    config = write_config(tmp_path, [("Only Feed", "https://a.example/feed")], storage=storage_at)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    with open_storage(storage_at) as store:
        store.heartbeat.started(int(gone.stdout), datetime.now(UTC))  # then SIGKILLed: no stop

    result = invoke("--config", str(config), "status")

    assert result.output.startswith(
        f"service:   not running: pid {int(gone.stdout)} ended without stopping (killed?)\n"
    )


def test_feeds_import_shows_control_characters_of_the_opml_escaped(tmp_path: Path) -> None:
    target = write_config(tmp_path, [("B", "https://b.example/rss")])
    opml = tmp_path / "reader.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline text="Desk&#x9b;"'
        ' xmlUrl="https://a.example/&#x202e;lmx.ssr"/></body></opml>'
    )

    result = invoke("--config", str(target), "feeds", "import", str(opml))

    assert "\u202e" not in result.output and "\x9b" not in result.output
    assert result.output.startswith("added 'Desk\\x9b': https://a.example/\\u202elmx.ssr\n")


# -- PostgreSQL faults: one line, never a traceback ---------------------------------------

DB_COMMANDS = [
    ("hits",),
    ("show", "1"),
    ("search", "Tokyo"),
    ("stats",),
    ("export", "--format", "json"),
    ("status",),
    ("feeds", "list"),
    ("db", "check"),
    ("deliveries",),
    ("housekeeping", "--dry-run"),
    ("terms", "eval", "--judged"),
    ("mark", "1", "--read"),
    ("mute", "1"),
    ("snooze", "Ferries", "--for", "1d"),
    ("poll", "--once"),
]


@pytest.mark.parametrize("args", DB_COMMANDS, ids=" ".join)
def test_a_postgres_server_that_is_down_is_a_one_line_error_naming_it(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    port = free_port()  # nothing listens there: the server is down
    config = write_config(
        tmp_path,
        [("Only Feed", "http://127.0.0.1:9/feed")],
        storage=f"postgresql://watcher:secret@127.0.0.1:{port}/watcher",
        terms='[[terms]]\nname = "Ferries"\nquery = "ferry"\n',
    )

    result = invoke("--config", str(config), *args)

    assert result.exit_code == 1
    assert result.output.startswith(
        f"error: postgresql://watcher:***@127.0.0.1:{port}/watcher: cannot connect: "
    )
    assert result.output.count("\n") == 1 and "secret" not in result.output


@pytest.mark.slow
@pytest.mark.parametrize("args", [("hits",), ("status",), ("poll", "--once")], ids=" ".join)
def test_a_postgres_database_that_does_not_exist_is_a_one_line_error_naming_it(
    tmp_path: Path, postgres_url: str, args: tuple[str, ...]
) -> None:
    missing = urlunsplit(urlsplit(postgres_url)._replace(path="/no_such_database"))
    config = write_config(tmp_path, [("Only Feed", "http://127.0.0.1:9/feed")], storage=missing)

    result = invoke("--config", str(config), *args)

    assert result.exit_code == 1
    assert result.output.startswith(f"error: {missing}: cannot connect: ")
    assert 'database "no_such_database" does not exist' in result.output
    assert result.output.count("\n") == 1


# -- status, db and terms eval --judged on each backend ---------------------------------


@pytest.mark.slow
def test_status_shows_the_polled_feeds_and_hits_on_each_backend(
    tmp_path: Path, polled_at: str
) -> None:
    config = write_config(tmp_path, [("Coastline Daily", "https://coast.example/rss")],
                          storage=polled_at)  # fmt: skip

    result = invoke("--config", str(config), "status")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:2] == ["service:   never run", f"database:  {polled_at}"]
    assert lines[3:5] == ["feeds:     1 enabled, 0 failing", "hits:      5 today, 5 in all"]
    assert lines[-1].split()[:3] == ["Coastline", "Daily", "ok"]
    assert lines[-1].split()[-2:] == ["4", "2"]  # its articles and hits


@pytest.mark.slow
def test_db_check_finds_a_polled_database_sound_on_each_backend(
    tmp_path: Path, polled_at: str
) -> None:
    config = write_config(tmp_path, [], storage=polled_at)

    checked = invoke("--config", str(config), "db", "check")
    status = invoke("--config", str(config), "status")

    assert checked.exit_code == 0
    assert checked.output == f"{polled_at}: ok\n"
    assert "integrity: ok at " in status.output


@pytest.mark.slow
def test_db_backup_of_a_postgres_database_says_to_use_pg_dump(
    tmp_path: Path, postgres_url: str
) -> None:
    config = write_config(tmp_path, [], storage=postgres_url)

    result = invoke("--config", str(config), "db", "backup", str(tmp_path / "copy.db"))

    assert result.exit_code == 2
    assert result.output == (
        "error: watcher db backup copies an SQLite file; back up PostgreSQL with pg_dump"
        " (or `watcher db copy URL FILE`)\n"
    )
    assert not (tmp_path / "copy.db").exists()


@pytest.mark.slow
def test_terms_eval_judged_counts_the_verdicts_given_on_each_backend(
    tmp_path: Path, polled_at: str
) -> None:
    config = write_config(tmp_path, [], storage=polled_at)
    hits = json.loads(invoke("--config", str(config), "hits", "--format", "json").output)
    hsr = sorted(hit["id"] for hit in hits if hit["term"] == "Ahmedabad–Mumbai HSR")
    invoke("--config", str(config), "mark", str(hsr[0]), "--relevant")
    invoke("--config", str(config), "mark", str(hsr[1]), "--not-relevant")

    result = invoke("--config", str(config), "terms", "eval", "--judged", "--format", "json")

    assert result.exit_code == 0, result.output
    [hsr] = json.loads(result.output)["terms"]  # the one term judged
    assert (hsr["term"], hsr["judged"], hsr["relevant"], hsr["precision"]) == (
        "Ahmedabad–Mumbai HSR",
        2,
        1,
        0.5,
    )


def migrated_with(postgres_url: str, setting: str) -> str:
    """The URL of the database, migrated, its sessions given `setting` (URL-encoded)."""
    with open_storage(postgres_url) as store:
        store.archive.hits()
    joiner = "&" if "?" in postgres_url else "?"
    return f"{postgres_url}{joiner}options=-c%20{setting}"


@pytest.mark.slow
def test_the_reading_commands_work_on_a_read_only_postgres_database(
    tmp_path: Path, postgres_url: str
) -> None:
    # A standby server, or a role that may only read: an up-to-date schema needs no write.
    read_only = migrated_with(postgres_url, "default_transaction_read_only%3Don")
    config = write_config(tmp_path, [("Only Feed", "http://127.0.0.1:9/feed")], storage=read_only)

    status = invoke("--config", str(config), "status")
    feeds = invoke("--config", str(config), "feeds", "list", "--format", "csv")
    judged = invoke("--config", str(config), "terms", "eval", "--judged")
    poll = invoke("--config", str(config), "poll", "--once")

    assert status.output.startswith("service:   never run\n")
    assert feeds.output.splitlines()[1].startswith("Only Feed,http://127.0.0.1:9/feed,")
    assert judged.exit_code == 0, judged.output
    assert poll.exit_code == 1  # writing is refused, in one line
    assert "read-only transaction" in poll.output and poll.output.count("\n") == 1


@pytest.mark.slow
def test_a_postgres_statement_that_fails_is_a_one_line_error_for_every_command(
    tmp_path: Path, postgres_url: str
) -> None:
    import psycopg

    impatient = migrated_with(postgres_url, "lock_timeout%3D10ms")
    config = write_config(
        tmp_path,
        [("Only Feed", "http://127.0.0.1:9/feed")],
        storage=impatient,
        terms='[[terms]]\nname = "Ferries"\nquery = "ferry"\n',
    )
    with psycopg.connect(postgres_url, autocommit=True) as other:
        other.execute("BEGIN")  # another session holds every table the commands read
        other.execute("LOCK TABLE feeds, articles, hits, polls, digests IN ACCESS EXCLUSIVE MODE")
        results = {args: invoke("--config", str(config), *args) for args in DB_COMMANDS}

    checked = results.pop(("db", "check"))  # reads no table on PostgreSQL
    failed = {args: result.output for args, result in results.items()}
    assert checked.exit_code == 0
    assert {result.exit_code for result in results.values()} == {1}
    assert failed == dict.fromkeys(
        failed, f"error: {impatient}: database error: canceling statement due to lock timeout\n"
    )
