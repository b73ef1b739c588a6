"""Config loading and validation: every mistake names the file, the field and the line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from watcher.config.load import load_config, parse_duration
from watcher.errors import ConfigError
from watcher.match.terms import match_terms

FEED_A = '[[feeds]]\nname = "A"\nurl = "https://a.example/rss"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


# --- parse_duration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0),
        ("15m", 900.0),
        ("6h", 21600.0),
        ("7d", 604800.0),
        ("2w", 1209600.0),
        ("1.5h", 5400.0),
        (" 15m ", 900.0),
    ],
)
def test_parse_duration_reads_one_number_and_one_unit(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["15 minutes", "15", "m", "-5m", "15M", "1h30m", ""])
def test_parse_duration_rejects_other_forms(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration like 90s, 15m, 6h or 7d"):
        parse_duration(text)


def test_parse_duration_rejects_zero() -> None:
    with pytest.raises(ValueError, match="must be longer than zero"):
        parse_duration("0s")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (FEED_A + 'interval = "9999999999w"\n', "feeds[0].interval: '9999999999w' is longer than"),
        ('[poll]\nmax_backoff = "99999999d"\n', "poll.max_backoff: '99999999d' is longer than"),
        ('[retention]\narticles = "999999999d"\n', "retention.articles: '999999999d' is longer"),
        ('[storage]\npath = "state/watcher\\u0000.db"\n', "storage.path: must not contain a NUL"),
    ],
)
def test_a_value_that_would_crash_later_is_refused_at_load(
    tmp_path: Path, text: str, field: str
) -> None:
    assert field in load_error(tmp_path, text)


# --- reading the file -------------------------------------------------------------------


def test_missing_file_is_a_config_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"

    with pytest.raises(ConfigError, match=r"nowhere\.toml: config file not found$"):
        load_config(path)


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[poll]\ninterval = "30m"\n\n[[feeds]]\nname = "A"\nurl = x\n')

    assert message.startswith(f"{tmp_path / 'watcher.toml'}: invalid TOML: ")
    assert "line 6" in message


# --- unknown keys ----------------------------------------------------------------------


def test_unknown_top_level_key_names_the_key_and_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, 'pol = "30m"\n\n[poll]\ninterval = "30m"\n')

    assert message == (
        f"{tmp_path / 'watcher.toml'}:1: pol: unknown key "
        "(expected one of: aliases, channels, delivery, feeds, fetch, poll, retention, storage,"
        " terms, web)"
    )


def test_unknown_fetch_key_names_the_field_and_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[fetch]\ntimeout = "20s"\nmax_byte = 2048\n')

    assert message.startswith(f"{tmp_path / 'watcher.toml'}:3: fetch.max_byte: unknown key")


def test_unknown_feed_key_names_the_line_of_the_key(tmp_path: Path) -> None:
    text = FEED_A + '\n[[feeds]]\nname = "B"\nurl = "https://b.example/rss"\nintervall = "15m"\n'

    message = load_error(tmp_path, text)

    assert message.startswith(f"{tmp_path / 'watcher.toml'}:8: ")
    assert "unknown key (expected one of: enabled, interval, name, url)" in message


def test_unknown_feed_key_names_the_feed_by_index(tmp_path: Path) -> None:
    text = FEED_A + '\n[[feeds]]\nname = "B"\nurl = "https://b.example/rss"\nintervall = "15m"\n'

    message = load_error(tmp_path, text)

    assert ": feeds[1].intervall: unknown key" in message


def test_unknown_term_key_names_the_term_by_index(tmp_path: Path) -> None:
    text = '[[terms]]\nname = "T"\nquery = "a"\nquerry = "b"\n'

    message = load_error(tmp_path, text)

    assert message.startswith(f"{tmp_path / 'watcher.toml'}:4: terms[0].querry: unknown key")


# --- wrong values -------------------------------------------------------------------------


def test_string_where_an_integer_belongs_names_the_field_and_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[fetch]\ntimeout = "20s"\nconcurrency = "16"\n')

    assert message == f"{tmp_path / 'watcher.toml'}:3: fetch.concurrency: must be an integer"


def test_boolean_where_an_integer_belongs_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, "[fetch]\nconcurrency = true\n")

    assert message == f"{tmp_path / 'watcher.toml'}:2: fetch.concurrency: must be an integer"


def test_string_where_a_boolean_belongs_names_the_feed_and_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, FEED_A + 'enabled = "no"\n')

    assert message == f"{tmp_path / 'watcher.toml'}:4: feeds[0].enabled: must be true or false"


def test_number_as_feed_name_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[[feeds]]\nname = 5\nurl = "https://a.example/rss"\n')

    assert message == f"{tmp_path / 'watcher.toml'}:2: feeds[0].name: must be a non-empty string"


def test_integer_below_its_minimum_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, "[fetch]\nmax_bytes = 10\n")

    assert message == f"{tmp_path / 'watcher.toml'}:2: fetch.max_bytes: must be at least 1024"


def test_poll_as_a_string_instead_of_a_table_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, 'poll = "30m"\n')

    assert message == f"{tmp_path / 'watcher.toml'}:1: poll: must be a table like [poll]"


def test_feeds_as_a_string_instead_of_an_array_of_tables_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, 'feeds = "https://a.example/rss"\n')

    assert message == (
        f"{tmp_path / 'watcher.toml'}:1: feeds: must be an array of tables like [[feeds]]"
    )


def test_feed_interval_in_words_is_a_bad_duration(tmp_path: Path) -> None:
    message = load_error(tmp_path, FEED_A + 'interval = "15 minutes"\n')

    assert message == (
        f"{tmp_path / 'watcher.toml'}:4: feeds[0].interval: "
        "'15 minutes' is not a duration like 90s, 15m, 6h or 7d"
    )


def test_poll_interval_in_words_is_a_bad_duration(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[poll]\ninterval = "15 minutes"\n')

    assert message.startswith(f"{tmp_path / 'watcher.toml'}:2: poll.interval: '15 minutes'")


def test_duplicate_feed_name_names_the_second_feed(tmp_path: Path) -> None:
    text = FEED_A + '\n[[feeds]]\nname = "A"\nurl = "https://b.example/rss"\n'

    message = load_error(tmp_path, text)

    assert message == f"{tmp_path / 'watcher.toml'}:6: feeds[1].name: duplicate feed name 'A'"


def test_non_http_feed_url_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[[feeds]]\nname = "A"\nurl = "ftp://a.example/rss"\n')

    assert message == (
        f"{tmp_path / 'watcher.toml'}:3: feeds[0].url: 'ftp://a.example/rss' is not an http(s) URL"
    )


@pytest.mark.parametrize("url", ["http://[::1/feed", "https://a.example:port/rss"])
def test_a_malformed_feed_url_is_a_one_line_error_not_a_traceback(tmp_path: Path, url: str) -> None:
    message = load_error(tmp_path, f'[[feeds]]\nname = "A"\nurl = "{url}"\n')

    where = f"{tmp_path / 'watcher.toml'}:3: feeds[0].url"
    assert message.startswith(f"{where}: {url!r} is not a valid URL: ")


def test_feed_without_url_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[[feeds]]\nname = "A"\n')

    assert message.endswith(": feeds[0].url: is required")


def test_bad_term_query_names_the_term_and_the_query_error(tmp_path: Path) -> None:
    text = '[[terms]]\nname = "HSR"\nquery = "Mumbai NEAR Ahmedabad"\n'

    message = load_error(tmp_path, text)

    assert message == (
        f"{tmp_path / 'watcher.toml'}:3: terms[0].query: term 'HSR': "
        "at 8: NEAR needs a distance in words, like NEAR/5"
    )


ALIASES = """[aliases]
india_japan = '"India-Japan" OR "Japan-India" OR @pair'
pair = '(India OR Indian) NEAR/3 (Japan OR Japanese)'

[[terms]]
name = "AI Dialogue"
query = '@india_japan /p "AI Dialogue"~2'
"""


def test_aliases_are_used_by_the_terms_queries(tmp_path: Path) -> None:
    (term,) = load_config(write(tmp_path, ALIASES)).terms

    assert match_terms([term], "", "Indian and Japanese officials held an AI policy dialogue.")
    assert not match_terms([term], "", "Indian officials held an AI policy dialogue.")


def test_an_unknown_alias_in_a_term_names_the_term_and_its_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, ALIASES.replace("'@india_japan /p", "'@japan_india /p"))

    assert message == (
        f"{tmp_path / 'watcher.toml'}:7: terms[0].query: term 'AI Dialogue': at 1: "
        "unknown alias @japan_india (aliases: @pair, @india_japan)"
    )


def test_an_unknown_alias_in_an_alias_names_the_alias_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, ALIASES.replace("OR @pair'", "OR @pairs'"))

    assert message == (
        f"{tmp_path / 'watcher.toml'}:2: aliases.india_japan: alias @india_japan: "
        "unknown alias @pairs (aliases: @india_japan, @pair)"
    )


def test_an_alias_cycle_is_a_config_error(tmp_path: Path) -> None:
    message = load_error(tmp_path, ALIASES.replace("NEAR/3 (Japan", "NEAR/3 (@india_japan"))

    assert message == (
        f"{tmp_path / 'watcher.toml'}:2: aliases.india_japan: alias @india_japan: "
        "aliases name each other in a cycle: @india_japan -> @pair -> @india_japan"
    )


def test_duplicate_term_name_is_rejected(tmp_path: Path) -> None:
    text = '[[terms]]\nname = "T"\nquery = "a"\n\n[[terms]]\nname = "T"\nquery = "b"\n'

    message = load_error(tmp_path, text)

    assert message == f"{tmp_path / 'watcher.toml'}:6: terms[1].name: duplicate term name 'T'"


# --- defaults and values ----------------------------------------------------------------------


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))

    assert config.db_path == tmp_path.resolve() / "state" / "watcher.db"
    assert config.default_interval == 1800.0
    assert config.feeds == ()
    assert config.terms == ()
    assert config.fetch.timeout == 20.0
    assert config.fetch.max_bytes == 10_000_000


def test_feed_without_interval_takes_the_poll_interval(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[poll]\ninterval = "2h"\n\n' + FEED_A))

    assert config.feeds[0].interval == 7200.0


def test_feed_interval_overrides_the_poll_interval(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[poll]\ninterval = "2h"\n\n' + FEED_A + 'interval = "15m"\n')
    )

    assert config.feeds[0].interval == 900.0


def test_feed_is_enabled_unless_it_says_otherwise(tmp_path: Path) -> None:
    text = FEED_A + '\n[[feeds]]\nname = "B"\nurl = "https://b.example/rss"\nenabled = false\n'

    config = load_config(write(tmp_path, text))

    assert [(feed.name, feed.enabled) for feed in config.feeds] == [("A", True), ("B", False)]


def test_storage_path_sets_the_db_path(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[storage]\npath = "/var/lib/watcher/hits.db"\n'))

    assert config.db_path == Path("/var/lib/watcher/hits.db")


def test_storage_url_names_a_postgresql_database(tmp_path: Path) -> None:
    url = "postgresql://watcher@db.example/watcher"
    config = load_config(write(tmp_path, f'[storage]\nurl = "{url}"\n'))

    assert config.db_url == url
    assert config.database == url


def test_storage_path_is_the_database_when_no_url_is_given(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[storage]\npath = "hits.db"\n'))

    assert config.db_url is None
    assert config.database == tmp_path.resolve() / "hits.db"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[storage]\npath = "a.db"\nurl = "postgresql://h/db"\n',
            "storage.url: give either path (SQLite) or url (PostgreSQL), not both",
        ),
        (
            '[storage]\nurl = "mysql://root:secret@h/db"\n',
            "storage.url: must be a postgresql:// URL (not mysql://)",
        ),
        ('[storage]\nurl = "db.example"\n', "storage.url: must be a postgresql:// URL"),
        ('[storage]\nurl = ""\n', "storage.url: must be a non-empty string"),
    ],
)
def test_a_bad_storage_url_is_one_line_naming_the_field(
    tmp_path: Path, text: str, message: str
) -> None:
    error = load_error(tmp_path, text)

    assert message in error
    assert "\n" not in error
    assert "secret" not in error


def test_relative_storage_path_starts_at_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, elsewhere = tmp_path / "etc", tmp_path / "home"
    folder.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    write(folder, "")
    config = load_config(Path("../etc/watcher.toml"))  # relative to the current folder
    write(folder, '[storage]\npath = "data/hits.db"\n')
    named = load_config(Path("../etc/watcher.toml"))

    assert config.db_path == folder.resolve() / "state" / "watcher.db"
    assert named.db_path == folder.resolve() / "data" / "hits.db"


def test_relative_ca_file_starts_at_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir("/")
    text = (
        '[[channels]]\nname = "mail"\ntype = "email"\nhost = "smtp.example"\n'
        'from = "w@example.org"\nto = ["desk@example.org"]\nca_file = "relay-ca.pem"\n'
    )

    channel = load_config(write(tmp_path, text)).channels[0]

    assert channel.settings.ca_file == tmp_path.resolve() / "relay-ca.pem"  # type: ignore[union-attr]


def test_selecting_an_unknown_feed_name_is_a_config_error(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FEED_A))

    with pytest.raises(ConfigError, match=re.escape("no feed named 'B'")):
        config.select_feeds(["B"])


def test_selecting_no_names_gives_the_enabled_feeds(tmp_path: Path) -> None:
    text = FEED_A + '\n[[feeds]]\nname = "B"\nurl = "https://b.example/rss"\nenabled = false\n'
    config = load_config(write(tmp_path, text))

    assert [feed.name for feed in config.select_feeds()] == ["A"]
    assert [feed.name for feed in config.select_feeds(["B"])] == ["B"]


# --- channels ----------------------------------------------------------------------------------

HOOK = '[[channels]]\nname = "hook"\ntype = "webhook"\nurl = "https://hooks.example/x"\n'


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            '[[channels]]\nname = "x"\ntype = "pigeon"\n',
            "channels[0].type: 'pigeon' is not one of: email, webhook, apprise",
        ),
        (
            HOOK + 'schedule = "every morning"\n',
            "channels[0].schedule: 'every morning' is not a cron",
        ),
        (HOOK + 'timezone = "Mars/Olympus"\n', "channels[0].timezone: unknown time zone"),
        (HOOK + 'terms = ["nope"]\n', "channels[0].terms: no term named 'nope'"),
        (HOOK + 'secret = "whsec_abc"\n', "channels[0].secret: write secrets as env:NAME"),
        (HOOK + 'headers = { webhook-id = "x" }\n', "channels[0].headers: 'webhook-id' is set"),
        (HOOK + 'host = "smtp.example"\n', "channels[0].host: unknown key"),
        (HOOK + HOOK, "channels[1].name: duplicate channel name 'hook'"),
        (
            '[[channels]]\nname = "m"\ntype = "email"\nhost = "h"\nfrom = "a@b.example"\n'
            'to = ["not an address"]\n',
            "channels[0].to: 'not an address' is not an email address",
        ),
    ],
)
def test_a_bad_channel_names_the_field(tmp_path: Path, table: str, message: str) -> None:
    assert message in load_error(tmp_path, FEED_A + table)


def test_a_webhook_channel_loads_with_its_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FEED_A + HOOK + 'secret = "env:HOOK_SECRET"\n'))

    [channel] = config.channels
    assert (channel.schedule, channel.timezone, channel.terms, channel.min_score) == (
        "0 7 * * *",
        "UTC",
        (),
        0.0,
    )
    assert [secret.ref for secret in channel.secrets()] == ["env:HOOK_SECRET"]


# --- [retention] ------------------------------------------------------------------------


def test_retention_defaults_keep_articles_half_a_year_and_polls_three_months(
    tmp_path: Path,
) -> None:
    retention = load_config(write(tmp_path, FEED_A)).retention

    assert (retention.articles, retention.polls, retention.schedule) == (
        180 * 86400,
        90 * 86400,
        "30 3 * * *",
    )


def test_retention_forever_keeps_everything(tmp_path: Path) -> None:
    text = '[retention]\narticles = "forever"\npolls = "2w"\n' + FEED_A
    retention = load_config(write(tmp_path, text)).retention

    assert (retention.articles, retention.polls) == (None, 14 * 86400)


def test_retention_period_in_words_names_the_field_and_the_alternative(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[retention]\narticles = "six months"\n' + FEED_A)

    assert message == (
        f"{tmp_path / 'watcher.toml'}:2: retention.articles: "
        "'six months' is not a duration like 90s, 15m, 6h or 7d, or \"forever\""
    )


def test_retention_schedule_must_be_a_cron_expression(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[retention]\nschedule = "daily"\n' + FEED_A)

    assert message.startswith(
        f"{tmp_path / 'watcher.toml'}:2: retention.schedule: 'daily' is not a cron expression ("
    )


def test_the_web_desk_defaults_to_loopback_with_links_to_its_own_address(tmp_path: Path) -> None:
    web = load_config(write(tmp_path, "[web]\nenabled = true\n")).web
    assert (web.enabled, web.host, web.port, web.loopback) == (True, "127.0.0.1", 8580, True)
    assert web.url == "http://127.0.0.1:8580"


def test_a_public_url_for_digest_links_loses_its_trailing_slash(tmp_path: Path) -> None:
    text = '[web]\nurl = "https://desk.example.org/watcher/"\n'
    assert load_config(write(tmp_path, text)).web.url == "https://desk.example.org/watcher"


def test_the_web_desk_off_loopback_needs_a_password(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[web]\nlisten = "0.0.0.0:8580"\n')
    assert "web.listen" in message and "password_hash" in message
    text = '[web]\nlisten = "0.0.0.0:8580"\npassword_hash = "$argon2id$v=19$x"\n'
    assert not load_config(write(tmp_path, text)).web.loopback


@pytest.mark.parametrize("listen", ["8580", "127.0.0.1:", "127.0.0.1:99999", ":8580"])
def test_a_listen_address_that_is_not_host_and_port_is_refused(tmp_path: Path, listen: str) -> None:
    message = load_error(tmp_path, f'[web]\nlisten = "{listen}"\n')
    assert "web.listen" in message and "host:port" in message


# --- [poll] lease: how long a claimed feed stays one process's (issue 20) ---------------------


def test_the_feed_lease_is_ten_minutes_unless_set(tmp_path: Path) -> None:
    default = load_config(write(tmp_path, FEED_A))
    set_ = load_config(write(tmp_path, '[poll]\nlease = "90s"\n' + FEED_A))

    assert (default.lease, set_.lease) == (600.0, 90.0)


def test_a_feed_lease_that_is_not_a_duration_names_the_field_and_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[poll]\ninterval = "30m"\nlease = "ten minutes"\n')

    assert message == (
        f"{tmp_path / 'watcher.toml'}:3: poll.lease: 'ten minutes' is not a duration"
        " like 90s, 15m, 6h or 7d"
    )


def test_a_feed_lease_shorter_than_two_fetch_timeouts_is_refused(tmp_path: Path) -> None:
    """A poll fetches its feed and then its pages, each within the timeout: a shorter lease
    would run out in an ordinary slow poll and hand the feed to a second process."""
    message = load_error(tmp_path, '[fetch]\ntimeout = "20s"\n\n[poll]\nlease = "30s"\n')

    assert message == (
        f"{tmp_path / 'watcher.toml'}:5: poll.lease: must be at least twice [fetch] timeout"
        " (40s), or polls still running would lose their feeds"
    )
    assert load_config(write(tmp_path, '[fetch]\ntimeout = "5s"\n[poll]\nlease = "10s"\n'))


def test_the_digest_lease_is_five_minutes_unless_set(tmp_path: Path) -> None:
    default = load_config(write(tmp_path, FEED_A))
    set_ = load_config(write(tmp_path, '[delivery]\nlease = "1m"\n' + FEED_A))

    assert (default.delivery.lease, set_.delivery.lease) == (300.0, 60.0)


def test_a_digest_lease_shorter_than_two_fetch_timeouts_is_refused(tmp_path: Path) -> None:
    """A webhook post may take the whole fetch timeout: a shorter lease would hand a digest
    still being posted to a second sender."""
    message = load_error(tmp_path, '[fetch]\ntimeout = "20s"\n\n[delivery]\nlease = "30s"\n')

    assert message == (
        f"{tmp_path / 'watcher.toml'}:5: delivery.lease: must be at least twice [fetch] timeout"
        " (40s)"
    )
