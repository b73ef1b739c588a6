"""Digests by email and webhook: real aiosmtpd and HTTP receivers on 127.0.0.1, real outbox."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result
from standardwebhooks.webhooks import Webhook

from conftest import (
    ROOT,
    SECRET,
    Mailbox,
    Receiver,
    channel_config,
    db_rows,
    email_channel,
    webhook_channel,
    write_config,
)
from watcher.app.links import NOT_RELEVANT, verify_link
from watcher.app.poll import STORIES, to_store
from watcher.app.triage import judge, mute_story, snooze_term
from watcher.cli import cli
from watcher.delivery.dispatch import retry_delay
from watcher.models import Article, Entry, Hit, Match
from watcher.store import open_storage

pytestmark = pytest.mark.slow

SCHEMA = json.loads((ROOT / "docs" / "webhook.schema.json").read_text())
# The five hits the fixture site yields (see test_pipeline_e2e.py), by term.
SITE_HITS = {
    "JWG on critical minerals": 1,
    "Ahmedabad–Mumbai HSR": 2,
    "UNICORN antenna": 1,
    "India–Japan AI Dialogue": 1,
}


def invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def digest_rows(where: str) -> list[tuple[Any, ...]]:
    return db_rows(where, "SELECT id, status, hits, attempts FROM digests ORDER BY created_at, id")


# --- email -------------------------------------------------------------------------------------


def test_email_digest_arrives_as_multipart_text_and_html(
    tmp_path: Path, polled_at: str, mailbox: Mailbox
) -> None:
    config = channel_config(tmp_path, polled_at, email_channel(mailbox))

    result = invoke(config, "digest", "send")

    assert result.exit_code == 0, result.output
    assert len(mailbox.messages) == 1
    received = mailbox.messages[0]
    assert received.recipients == ["desk@newsroom.example", "editor@newsroom.example"]
    message = parsed(received.data)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == (
        "watcher: 5 new hits (JWG on critical minerals 1, India–Japan AI Dialogue 1,"
        " UNICORN antenna 1, Ahmedabad–Mumbai HSR 2)"
    )
    digest_id = digest_rows(polled_at)[0][0]
    assert message["Message-ID"] == f"<{digest_id}@newsroom.example>"
    text, html = parts(message)
    for term, count in SITE_HITS.items():
        assert f"## {term} ({count} hit{'s' if count > 1 else ''})" in text
        assert f">{term} <span" in html
    assert "Japan agrees to share stealth mast technology" in text
    assert "<mark" in html and "/articles/a4.html" in html


def test_a_sent_hit_is_not_sent_again(tmp_path: Path, polled_at: str, mailbox: Mailbox) -> None:
    config = channel_config(tmp_path, polled_at, email_channel(mailbox))
    assert invoke(config, "digest", "send").exit_code == 0

    again = invoke(config, "digest", "send")

    assert again.exit_code == 0
    assert "nothing to send" in again.output
    assert len(mailbox.messages) == 1
    assert [(status, hits) for _, status, hits, _ in digest_rows(polled_at)] == [("sent", 5)]


def hostile_hit(where: str) -> None:
    """An article whose feed title carries CR/LF, a header line and markup."""
    now = datetime.now(UTC)
    title = "Mast deal signed\r\nBcc: victim@elsewhere.example\r\n<script>alert(1)</script>"
    with open_storage(where) as store:
        entry = Entry("k1", "https://coast.example/a", None, title, "", now, None)
        article = Article("https://coast.example/a", title, "The UNICORN mast.", "page", now)
        match = Match("UNICORN antenna", "UNICORN", "<b>UNICORN</b> mast", 1.0, 1, False)
        store.articles.save(
            "Coastline Daily", [to_store(entry, article, "f", [match])], now, STORIES
        )


def test_a_title_with_line_breaks_and_html_injects_no_header_and_no_markup(
    tmp_path: Path, storage_at: str, mailbox: Mailbox
) -> None:
    config = write_config(
        tmp_path, [("Coastline Daily", "https://coast.example/rss")], storage=storage_at
    )
    with config.open("a") as file:
        file.write("\n" + email_channel(mailbox))
    hostile_hit(storage_at)

    assert invoke(config, "digest", "send").exit_code == 0

    received = mailbox.messages[0]
    assert received.recipients == ["desk@newsroom.example", "editor@newsroom.example"]
    message = parsed(received.data)
    assert message["Bcc"] is None
    assert message["Subject"] == (
        "watcher: UNICORN antenna: Mast deal signed Bcc: victim@elsewhere.example"
        " <script>alert(1)</script>"
    )
    _, html = parts(message)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;UNICORN&lt;/b&gt; mast" in html


DESK = '[web]\nurl = "https://desk.example/watch"\n'
NOT_RELEVANT_LINE = re.compile(
    r"not relevant: (https://desk\.example/watch/hits/(\d+)/not-relevant\?sig=(\w+))"
)


def test_an_emailed_digest_links_each_hit_to_its_page_and_a_signed_not_relevant_action(
    tmp_path: Path, polled_at: str, mailbox: Mailbox
) -> None:
    config = channel_config(tmp_path, polled_at, DESK + email_channel(mailbox))

    assert invoke(config, "digest", "send").exit_code == 0

    text, html = parts(parsed(mailbox.messages[0].data))
    found = NOT_RELEVANT_LINE.findall(text)
    assert len(found) == 5  # one per hit, copies of a story included
    for link, hit_id, _ in found:
        assert f"desk: https://desk.example/watch/hits/{hit_id}\n" in text
        assert f'<a href="{link}"' in html
        assert f'<a href="https://desk.example/watch/hits/{hit_id}"' in html
    link, hit_id, signature = found[0]
    other = next(int(number) for _, number, _ in found if number != hit_id)
    with open_storage(polled_at) as store:
        assert verify_link(store, int(hit_id), NOT_RELEVANT, signature)
        assert not verify_link(store, other, NOT_RELEVANT, signature)  # a forwarded link, edited


def test_a_digest_leaves_out_hits_judged_not_relevant_muted_or_snoozed_and_hits_lists_them(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    config = channel_config(tmp_path, polled_at, webhook_channel(receiver))
    now = datetime.now(UTC)
    with open_storage(polled_at) as store:
        by_term: dict[str, list[Hit]] = {}
        for hit in store.archive.hits():
            by_term.setdefault(hit.term, []).append(hit)
        [jwg] = by_term["JWG on critical minerals"]
        muted, kept = by_term["Ahmedabad–Mumbai HSR"]  # two stories
        story = muted.cluster
        assert story is not None and kept.cluster != story
        judge(store, jwg.id, "not_relevant", now)
        mute_story(store, story, now)
        snooze_term(store, "UNICORN antenna", now + timedelta(days=1), now)

    assert invoke(config, "digest", "send").exit_code == 0

    body = json.loads(receiver.posts[0].body)
    assert {group["term"]: group["hit_count"] for group in body["data"]["terms"]} == {
        "India–Japan AI Dialogue": 1,
        "Ahmedabad–Mumbai HSR": 1,
    }
    assert [h["id"] for g in body["data"]["terms"] for s in g["stories"] for h in s["hits"]
            if g["term"] == "Ahmedabad–Mumbai HSR"] == [kept.id]  # fmt: skip
    listed = json.loads(invoke(config, "hits", "--format", "json").output)
    assert len(listed) == 5


def test_an_smtp_refusal_is_retried_and_the_digest_sent_once(
    tmp_path: Path, polled_at: str, mailbox: Mailbox
) -> None:
    config = channel_config(tmp_path, polled_at, email_channel(mailbox))
    mailbox.refuse = 1

    first = invoke(config, "digest", "send")
    assert first.exit_code == 1
    assert "retrying: digest" in first.output and "451" in first.output
    time.sleep(2.1)  # retry_max is 2s
    second = invoke(config, "digest", "send")

    assert second.exit_code == 0, second.output
    assert len(mailbox.messages) == 1
    assert [(status, attempts) for _, status, _, attempts in digest_rows(polled_at)] == [
        ("sent", 2)
    ]


def test_a_password_in_the_file_is_refused(tmp_path: Path, mailbox: Mailbox) -> None:
    channel = email_channel(mailbox, username='"watcher"', password='"hunter2"')
    config = write_config(tmp_path, [("A", "https://a.example/rss")])
    with config.open("a") as file:
        file.write("\n" + channel)

    result = invoke(config, "digest", "send")

    assert result.exit_code == 2
    assert "channels[0].password: write secrets as env:NAME or credential:NAME" in result.output
    assert "hunter2" not in result.output


def test_a_missing_secret_stops_the_send_with_its_name(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_WEBHOOK_SECRET", raising=False)
    config = channel_config(tmp_path, polled_at, webhook_channel(receiver))

    result = invoke(config, "digest", "send")

    assert result.exit_code == 2
    assert "environment variable TEST_WEBHOOK_SECRET is not set" in result.output
    assert receiver.posts == []


def test_sending_one_channel_is_not_stopped_by_another_channels_missing_secret(
    tmp_path: Path,
    polled_at: str,
    receiver: Receiver,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)
    mail = email_channel(mailbox, username='"watcher"', password='"env:TEST_SMTP_PASSWORD"')
    config = channel_config(tmp_path, polled_at, webhook_channel(receiver) + "\n" + mail)

    hook = invoke(config, "digest", "send", "--channel", "hook")
    desk = invoke(config, "digest", "send", "--channel", "desk")

    assert hook.exit_code == 0, hook.output
    assert len(receiver.posts) == 1
    assert desk.exit_code == 2
    assert desk.output == (
        f"error: {config}: channel 'desk': secret env:TEST_SMTP_PASSWORD: "
        "environment variable TEST_SMTP_PASSWORD is not set\n"
    )


@pytest.mark.parametrize("command", [("digest", "send"), ("run",)])
def test_a_malformed_webhook_secret_is_a_config_error_naming_the_channel(
    tmp_path: Path,
    polled_at: str,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", "whsec_not*base64!")
    config = channel_config(tmp_path, polled_at, webhook_channel(receiver))

    result = invoke(config, *command)

    assert result.exit_code == 2
    assert result.output == (
        f"error: {config}: channel 'hook': secret env:TEST_WEBHOOK_SECRET: "
        "not a base64 webhook secret (whsec_...)\n"
    )
    assert receiver.posts == []
    assert digest_rows(polled_at) == []  # nothing queued to be retried


def test_a_systemd_credential_logs_in_to_the_smtp_server(
    tmp_path: Path, polled_at: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "smtp").write_text("s3cret\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "creds"))
    mailbox = Mailbox(password="s3cret")
    try:
        channel = email_channel(mailbox, username='"watcher"', password='"credential:smtp"')
        config = channel_config(tmp_path, polled_at, channel)
        result = invoke(config, "digest", "send")
    finally:
        mailbox.close()

    assert result.exit_code == 0, result.output
    assert mailbox.logins == [("watcher", "s3cret")]
    assert len(mailbox.messages) == 1


def test_a_wrong_smtp_password_is_a_failed_attempt_naming_the_server(
    tmp_path: Path, polled_at: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "guess")
    mailbox = Mailbox(password="s3cret")
    try:
        channel = email_channel(mailbox, username='"watcher"', password='"env:TEST_SMTP_PASSWORD"')
        config = channel_config(tmp_path, polled_at, channel)
        result = invoke(config, "digest", "send")
    finally:
        mailbox.close()

    assert result.exit_code == 1
    assert f"smtp://127.0.0.1:{mailbox.port}: 535" in result.output
    assert "guess" not in result.output
    assert mailbox.messages == []


# --- webhook -----------------------------------------------------------------------------------


def test_webhook_body_is_signed_and_follows_the_schema(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    config = channel_config(tmp_path, polled_at, webhook_channel(receiver))

    assert invoke(config, "digest", "send").exit_code == 0

    [post] = receiver.posts
    body = Webhook(SECRET).verify(post.body, post.headers)  # raises unless the signature holds
    jsonschema.validate(body, SCHEMA, format_checker=jsonschema.FormatChecker())
    [first, *_] = body["data"]["terms"][0]["stories"][0]["hits"]
    assert first["page_url"] == f"http://127.0.0.1:8580/hits/{first['id']}"
    assert first["not_relevant_url"].startswith(f"{first['page_url']}/not-relevant?sig=")
    assert post.headers["x-team"] == "desk"
    assert post.headers["webhook-id"] == body["data"]["id"]
    assert {group["term"]: group["hit_count"] for group in body["data"]["terms"]} == SITE_HITS
    with pytest.raises(Exception, match="No matching signature"):
        Webhook("whsec_" + base64.b64encode(b"some other key, not ours").decode()).verify(
            post.body, post.headers
        )


def test_webhook_retry_after_500_carries_the_same_id_and_200_is_not_resent(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    config = channel_config(tmp_path, polled_at, webhook_channel(receiver))
    receiver.statuses = [500]

    assert invoke(config, "digest", "send").exit_code == 1
    time.sleep(2.1)
    assert invoke(config, "digest", "send").exit_code == 0
    time.sleep(2.1)
    assert invoke(config, "digest", "send").exit_code == 0

    assert len(receiver.posts) == 2
    first, second = receiver.posts
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert json.loads(first.body)["data"] == json.loads(second.body)["data"]
    Webhook(SECRET).verify(second.body, second.headers)


def test_an_explicit_send_sends_a_digest_waiting_out_its_backoff_now(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    delivery = 'retry_base = "1h"\nretry_max = "2h"'
    config = channel_config(tmp_path, polled_at, webhook_channel(receiver), delivery)
    receiver.statuses = [500]

    first = invoke(config, "digest", "send")
    again = invoke(config, "digest", "send")

    assert first.exit_code == 1 and again.exit_code == 0
    assert "nothing to send" not in again.output
    assert [status for _, status, _, _ in digest_rows(polled_at)] == ["sent"]
    assert len({post.headers["webhook-id"] for post in receiver.posts}) == 1
    assert len(receiver.posts) == 2


def test_a_digest_that_keeps_failing_is_left_failed_until_retried(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    delivery = 'retry_base = "1s"\nretry_max = "1s"\nmax_attempts = 2'
    config = channel_config(tmp_path, polled_at, webhook_channel(receiver), delivery)
    receiver.statuses = [503, 503]

    invoke(config, "digest", "send")
    time.sleep(1.1)
    invoke(config, "digest", "send")
    listed = json.loads(invoke(config, "deliveries", "--format", "json").output)
    retried = invoke(config, "digest", "send", "--retry-failed")

    assert [(d["status"], d["attempts"], d["last_error"]) for d in listed] == [
        ("failed", 2, f"{receiver.url}: HTTP 503")
    ]
    assert retried.exit_code == 0
    assert len({post.headers["webhook-id"] for post in receiver.posts}) == 1
    assert len(receiver.posts) == 3


def test_preview_shows_the_digest_and_sends_and_marks_nothing(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    config = channel_config(tmp_path, polled_at, webhook_channel(receiver))

    text = invoke(config, "digest", "preview").output
    body = json.loads(invoke(config, "digest", "preview", "--as", "json").output)

    assert text.startswith("watcher: 5 new hits")
    assert body["data"]["hit_count"] == 5
    assert receiver.posts == []
    assert digest_rows(polled_at) == []


def test_preview_as_json_shows_c1_and_bidi_controls_escaped(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    config = channel_config(tmp_path, polled_at, webhook_channel(receiver))
    db_rows(polled_at, "UPDATE articles SET title = title || ?", "\x9b2J \u202eevil")

    output = invoke(config, "digest", "preview", "--as", "json").output

    assert "\x9b" not in output and "\u202e" not in output
    assert "\\u009b2J \\u202eevil" in output


def test_the_digest_names_the_outlets_and_shows_times_in_the_channels_zone(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    delivery = 'retry_base = "1s"\ntimezone = "Asia/Tokyo"'
    config = channel_config(tmp_path, polled_at, webhook_channel(receiver), delivery)

    text = invoke(config, "digest", "preview").output

    assert "reported by 2 outlets: Coastline Daily and Eastern Ledger" in text
    assert " JST" in text and " UTC" not in text


def test_a_channel_gets_only_its_terms_above_its_minimum_score(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    channel = webhook_channel(receiver, terms='["Ahmedabad–Mumbai HSR", "UNICORN antenna"]')
    config = channel_config(tmp_path, polled_at, channel)

    invoke(config, "digest", "send")

    body = json.loads(receiver.posts[0].body)
    assert {group["term"]: group["hit_count"] for group in body["data"]["terms"]} == {
        "Ahmedabad–Mumbai HSR": 2,
        "UNICORN antenna": 1,
    }


def test_a_new_channel_is_sent_only_the_recent_hits(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    config = channel_config(tmp_path, polled_at, webhook_channel(receiver))
    old = (datetime.now(UTC) - timedelta(days=3)).isoformat(timespec="seconds")
    db_rows(polled_at, "UPDATE hits SET found_at = ? WHERE term = 'Ahmedabad–Mumbai HSR'", old)

    invoke(config, "digest", "send")
    invoke(config, "digest", "send", "--since", "7d")

    first, second = (json.loads(post.body)["data"] for post in receiver.posts)
    assert first["hit_count"] == 3  # the backfill is one day
    assert [group["term"] for group in second["terms"]] == ["Ahmedabad–Mumbai HSR"]


def test_an_empty_digest_is_sent_only_when_the_channel_asks(
    tmp_path: Path, storage_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    quiet = webhook_channel(receiver)
    chatty = webhook_channel(receiver, send_empty="true").replace('"hook"', '"hook-all"')
    config = write_config(tmp_path, [("A", "https://a.example/rss")], storage=storage_at)
    with config.open("a") as file:
        file.write("\n" + quiet + chatty)

    invoke(config, "digest", "send")

    [post] = receiver.posts
    assert json.loads(post.body)["data"]["channel"] == "hook-all"
    assert json.loads(post.body)["data"]["hit_count"] == 0


def test_a_feed_failing_for_long_is_noticed_in_the_digest(
    tmp_path: Path, polled_at: str, mailbox: Mailbox
) -> None:
    config = channel_config(tmp_path, polled_at, email_channel(mailbox))
    since = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")
    db_rows(
        polled_at,
        "UPDATE feeds SET failing_since = ?, consecutive_errors = 9, last_error = ?"
        " WHERE name = 'Coastline Daily'",
        since,
        "HTTP 503",
    )

    invoke(config, "digest", "send")

    text, html = parts(parsed(mailbox.messages[0].data))
    assert f"- Coastline Daily since {since[:16].replace('T', ' ')} UTC: HTTP 503" in text
    assert "Feeds failing for a while" in html


def test_apprise_channel_posts_through_apprise(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_APPRISE_URL", receiver.url.replace("http://", "json://"))
    channel = '[[channels]]\nname = "chat"\ntype = "apprise"\nurls = ["env:TEST_APPRISE_URL"]\n'
    config = channel_config(tmp_path, polled_at, channel)

    result = invoke(config, "digest", "send")

    assert result.exit_code == 0, result.output
    [post] = receiver.posts
    body = json.loads(post.body)
    assert body["title"].startswith("watcher: 5 new hits")
    assert "UNICORN antenna" in body["message"]


def test_retry_delay_doubles_up_to_the_cap_with_jitter() -> None:
    assert [retry_delay(n, 60, 600, 0.999999) for n in (1, 2, 3, 4, 5)] == pytest.approx(
        [60, 120, 240, 480, 600], rel=1e-5
    )
    assert retry_delay(3, 60, 600, 0.0) == 120.0  # half of 240: the jitter's low end


def test_status_counts_pending_and_failed_digests(
    tmp_path: Path, polled_at: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    config = channel_config(tmp_path, polled_at, webhook_channel(receiver))
    receiver.statuses = [500]
    invoke(config, "digest", "send")

    status = json.loads(invoke(config, "status", "--format", "json").output)[0]

    assert (status["pending_deliveries"], status["failed_deliveries"]) == (1, 0)


def test_digest_send_without_channels_says_so(tmp_path: Path) -> None:
    config = write_config(tmp_path, [("A", "https://a.example/rss")])

    result = invoke(config, "digest", "send")

    assert result.exit_code == 2
    assert result.output == f"error: {config}: no [[channels]] configured\n"
