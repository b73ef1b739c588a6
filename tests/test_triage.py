"""Triage marks (issue 19) on each backend: reads, verdicts, mutes, snoozes, signed links."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import write_config
from watcher.app.judged import judged_scores
from watcher.app.links import NOT_RELEVANT, hit_url, not_relevant_url, verify_link
from watcher.app.poll import STORIES, to_store
from watcher.app.triage import (
    judge,
    judge_article,
    mark_read,
    mute_story,
    muted_stories,
    snooze_term,
    snoozed_terms,
    unmute_story,
    wake_term,
)
from watcher.cli import cli
from watcher.config.load import load_config
from watcher.errors import ArgumentError
from watcher.models import Article, Entry, Match
from watcher.store import ArticleToStore, Storage, open_storage
from watcher.store.records import HitQuery

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
STORY = (
    "The coast guard towed the drifting ferry Meridian back to port on Tuesday night after"
    " its engine failed halfway across the strait. Two hundred passengers waited on deck"
    " for four hours while a tug came out from the northern harbour. The operator said the"
    " vessel would stay in dock for inspection until the weekend and that its crossings"
    " would be covered by the smaller Aurora."
)


@pytest.fixture
def store(storage: Storage) -> Storage:
    """A fresh store on each backend."""
    return storage


def reading(number: int, text: str, terms: tuple[str, ...] = ("Ferries",)) -> ArticleToStore:
    url = f"https://news.example/item-{number}"
    entry = Entry(
        key=f"news.example|{number}", url=url, link=url, title=f"Item {number}", summary="",
        published=NOW, updated=None,
    )  # fmt: skip
    article = Article(url=url, title=entry.title, text=text, source="page", published=NOW)
    matches = [
        Match(term=term, phrase="ferry", snippet=text[:40], score=2.0, count=1, in_title=False)
        for term in terms
    ]
    return to_store(entry, article, f"f{number}", matches)


def fill(store: Storage, at: datetime = NOW) -> dict[str, int]:
    """Three articles, two of them copies of one story, and a fourth no term hit.

    Returns hit ids by name ("a", "b" the story's copies, "c" another story) and the
    id of the article without a hit ("quiet").
    """
    store.articles.save(
        "Port News",
        [
            reading(1, STORY),
            reading(2, STORY.replace("Tuesday", "Tuesday evening")),
            reading(3, "A new ferry timetable starts in December with two more crossings."),
            reading(4, "The harbour master retired after thirty years.", terms=()),
        ],
        at,
        STORIES,
    )
    ids = {hit.title: hit.id for hit in store.archive.hits()}
    quiet = store.articles.lookup("Port News", reading(4, "").entry)
    assert quiet is not None
    return {"a": ids["Item 1"], "b": ids["Item 2"], "c": ids["Item 3"], "quiet": quiet.article_id}


def hit(store: Storage, hit_id: int):  # type: ignore[no-untyped-def]
    return store.archive.hits(ids=[hit_id])[0]


def test_marks_persist_across_reopening_the_database(storage_at: str) -> None:
    with open_storage(storage_at) as store:
        ids = fill(store)
        mark_read(store, [ids["a"]], NOW)
        judge(store, ids["a"], "important", NOW)
        judge(store, ids["c"], "not_relevant", NOW)
        cluster = hit(store, ids["a"]).cluster
        assert cluster is not None
        mute_story(store, cluster, NOW, NOW + timedelta(days=7))
        snooze_term(store, "Ferries", NOW + timedelta(days=2), NOW)
    with open_storage(storage_at) as store:
        a, c = hit(store, ids["a"]), hit(store, ids["c"])
        assert (a.read, a.verdict) == (True, "important")
        assert (c.read, c.verdict) == (False, "not_relevant")
        later = NOW + timedelta(hours=1)
        assert [(m.cluster, m.until) for m in muted_stories(store, later)] == [
            (cluster, "2026-11-27T08:30:00+00:00")
        ]
        assert [(s.term, s.until) for s in snoozed_terms(store, later)] == [
            ("Ferries", "2026-11-22T08:30:00+00:00")
        ]


def test_a_hit_marked_unread_again_is_unread(store: Storage) -> None:
    ids = fill(store)
    mark_read(store, [ids["a"], ids["b"]], NOW)
    mark_read(store, [ids["a"]], NOW, read=False)
    assert [hit(store, ids[n]).read for n in ("a", "b", "c")] == [False, True, False]


def test_clearing_a_verdict_leaves_the_hit_unjudged(store: Storage) -> None:
    ids = fill(store)
    judge(store, ids["a"], "relevant", NOW)
    judge(store, ids["a"], "not_relevant", NOW)
    assert hit(store, ids["a"]).verdict == "not_relevant"
    judge(store, ids["a"], None, NOW)
    assert hit(store, ids["a"]).verdict is None


def test_judging_an_article_for_its_term_is_judging_its_hit(store: Storage) -> None:
    ids = fill(store)
    article_id = store.marks.hit_pairs([ids["c"]])[ids["c"]][0]
    judge_article(store, article_id, "Ferries", "not_relevant", NOW)
    assert hit(store, ids["c"]).verdict == "not_relevant"


def test_an_article_the_term_missed_can_be_judged_for_it(store: Storage) -> None:
    ids = fill(store)
    judge_article(store, ids["quiet"], "Ferries", "relevant", NOW)
    assert store.marks.verdict(ids["quiet"], "Ferries") == "relevant"
    assert len(store.archive.hits()) == 3  # a judgement makes no hit


def test_unknown_hits_articles_stories_and_verdicts_are_one_line_errors(store: Storage) -> None:
    ids = fill(store)
    with pytest.raises(ArgumentError, match=r"^no hit 999 in the database"):
        judge(store, 999, "relevant", NOW)
    with pytest.raises(ArgumentError, match=r"^no hits 998, 999 in the database"):
        mark_read(store, [ids["a"], 998, 999], NOW)
    assert hit(store, ids["a"]).read is False  # nothing marked when one id is wrong
    with pytest.raises(ArgumentError, match=r"^no article 999 in the database"):
        judge_article(store, 999, "Ferries", "relevant", NOW)
    with pytest.raises(ArgumentError, match=r"^no story 999 in the database"):
        mute_story(store, 999, NOW)
    with pytest.raises(ArgumentError, match=r"^unknown verdict 'spam'"):
        judge(store, ids["a"], "spam", NOW)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"^story 999 is not muted"):
        unmute_story(store, 999, NOW)
    with pytest.raises(ArgumentError, match=r"^term 'Ferries' is not snoozed"):
        wake_term(store, "Ferries", NOW)
    with pytest.raises(ArgumentError, match="must end after it starts"):
        snooze_term(store, "Ferries", NOW, NOW)


def test_hits_filter_by_read_judged_and_verdict(store: Storage) -> None:
    ids = fill(store)
    mark_read(store, [ids["b"]], NOW)
    judge(store, ids["a"], "important", NOW)
    judge(store, ids["b"], "not_relevant", NOW)

    def listed(**filters: object) -> list[int]:
        return sorted(h.id for h in store.archive.hits(HitQuery(**filters)))  # type: ignore[arg-type]

    assert listed(read=False) == sorted([ids["a"], ids["c"]])
    assert listed(read=True) == [ids["b"]]
    assert listed(judged=True) == sorted([ids["a"], ids["b"]])
    assert listed(judged=False) == [ids["c"]]
    assert listed(verdicts=("not_relevant",)) == [ids["b"]]
    assert listed(verdicts=("relevant", "important")) == [ids["a"]]


def test_a_story_muted_for_a_while_is_muted_until_then_and_unmuting_ends_it(
    store: Storage,
) -> None:
    ids = fill(store)
    cluster = hit(store, ids["a"]).cluster
    assert cluster is not None and cluster == hit(store, ids["b"]).cluster
    mute_story(store, cluster, NOW, NOW + timedelta(days=1))
    assert [m.cluster for m in muted_stories(store, NOW + timedelta(hours=23))] == [cluster]
    assert muted_stories(store, NOW + timedelta(days=1)) == []
    mute_story(store, cluster, NOW + timedelta(days=2))  # for ever
    assert [m.until for m in muted_stories(store, NOW + timedelta(days=300))] == [None]
    unmute_story(store, cluster, NOW + timedelta(days=3))
    assert muted_stories(store, NOW + timedelta(days=3)) == []


def test_hits_found_while_muted_or_snoozed_say_so(store: Storage) -> None:
    ids = fill(store)
    assert not hit(store, ids["a"]).muted
    cluster = hit(store, ids["a"]).cluster
    assert cluster is not None
    mute_story(store, cluster, NOW - timedelta(hours=1))
    snooze_term(store, "Ferries", NOW + timedelta(hours=1), NOW - timedelta(hours=1))
    a, c = hit(store, ids["a"]), hit(store, ids["c"])
    assert (a.muted, a.snoozed) == (True, True)
    assert (c.muted, c.snoozed) == (False, True)


def test_waking_a_term_ends_its_snooze(store: Storage) -> None:
    snooze_term(store, "Ferries", NOW + timedelta(days=2), NOW)
    wake_term(store, "Ferries", NOW + timedelta(hours=1))
    assert snoozed_terms(store, NOW + timedelta(hours=2)) == []


# -- signed links --------------------------------------------------------------------


def test_a_hit_links_to_its_page_on_the_desk(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, [], extra='[web]\nurl = "https://desk.example/w/"'))
    assert hit_url(config, 42) == "https://desk.example/w/hits/42"


def test_the_not_relevant_link_is_signed_for_its_hit_and_action_only(
    tmp_path: Path, storage_at: str
) -> None:
    web = '[web]\nurl = "https://desk.example"'
    config = load_config(write_config(tmp_path, [], extra=web, storage=storage_at))
    with open_storage(config.database) as store:
        link = not_relevant_url(config, store, 42)
        assert link.startswith("https://desk.example/hits/42/not-relevant?sig=")
        signature = link.partition("?sig=")[2]
        assert len(signature) == 32
        assert verify_link(store, 42, NOT_RELEVANT, signature)
        assert not verify_link(store, 43, NOT_RELEVANT, signature)  # another hit
        assert not verify_link(store, 42, "important", signature)  # another action
        forged = ("0" if signature[0] != "0" else "1") + signature[1:]
        assert not verify_link(store, 42, NOT_RELEVANT, forged)
        assert not verify_link(store, 42, NOT_RELEVANT, "")
        assert not verify_link(store, 42, NOT_RELEVANT, "é" * 32)  # not even hex


def test_signatures_hold_across_reopening_and_differ_between_databases(
    tmp_path: Path, storage_at: str, request: pytest.FixtureRequest
) -> None:
    if "://" in storage_at:  # a second PostgreSQL database, dropped after the test
        server = request.getfixturevalue("postgres_server")
        two, name = server.create_database()
        request.addfinalizer(lambda: server.drop_database(name))
    else:
        two = str(tmp_path / "two.db")
    with open_storage(storage_at) as store:
        signature = store.marks.sign(42, NOT_RELEVANT)
    with open_storage(storage_at) as store:
        assert verify_link(store, 42, NOT_RELEVANT, signature)
    with open_storage(two) as other:
        assert not verify_link(other, 42, NOT_RELEVANT, signature)


# -- digests leave out what the marks hold back ------------------------------------------


def sendable(store: Storage, now: datetime) -> list[int]:
    """The hits a channel configured before NOW would be sent in a digest at `now`."""
    return store.outbox.undelivered("desk", since=NOW - timedelta(days=1), now=now)


def test_a_digest_leaves_out_a_hit_judged_not_relevant_until_the_verdict_is_cleared(
    store: Storage,
) -> None:
    ids = fill(store)
    judge(store, ids["c"], "not_relevant", NOW)
    judge(store, ids["a"], "relevant", NOW)
    assert sendable(store, NOW) == [ids["a"], ids["b"]]
    judge(store, ids["c"], None, NOW)
    assert sendable(store, NOW) == [ids["a"], ids["b"], ids["c"]]


def test_a_muted_story_is_left_out_and_its_later_copies_are_stored_but_not_sent(
    store: Storage,
) -> None:
    ids = fill(store)
    cluster = hit(store, ids["a"]).cluster
    assert cluster is not None
    mute_story(store, cluster, NOW + timedelta(minutes=5))
    # A third copy arrives while the story is muted.
    store.articles.save(
        "Bay Radio", [reading(5, STORY.replace("Tuesday", "Tuesday, late,"))], NOW, STORIES
    )
    later = NOW + timedelta(hours=1)
    copy = [h.id for h in store.archive.hits() if h.title == "Item 5"]
    assert copy and hit(store, copy[0]).cluster == cluster
    assert sendable(store, later) == [ids["c"]]
    assert len(store.archive.hits()) == 4  # all stored, all listed


def test_a_copy_found_after_the_story_was_unmuted_is_sent_and_the_held_ones_are_not(
    store: Storage,
) -> None:
    ids = fill(store)
    cluster = hit(store, ids["a"]).cluster
    assert cluster is not None
    mute_story(store, cluster, NOW + timedelta(minutes=5))
    unmute_story(store, cluster, NOW + timedelta(minutes=10))
    store.articles.save(
        "Bay Radio",
        [reading(5, STORY.replace("Tuesday", "Tuesday, late,"))],
        NOW + timedelta(minutes=20),
        STORIES,
    )
    [copy] = [h.id for h in store.archive.hits() if h.title == "Item 5"]
    assert sendable(store, NOW + timedelta(hours=1)) == [ids["c"], copy]


def test_a_mute_that_ended_before_a_hit_was_found_does_not_hold_it_back(
    store: Storage,
) -> None:
    store.articles.save("Port News", [reading(7, STORY)], NOW - timedelta(days=3), STORIES)
    [first] = store.archive.hits()
    assert first.cluster is not None
    mute_story(store, first.cluster, NOW - timedelta(days=2), NOW - timedelta(days=1))
    ids = fill(store)
    assert hit(store, ids["a"]).cluster == first.cluster
    assert sendable(store, NOW) == [ids["a"], ids["b"], ids["c"]]


def test_hits_of_a_term_found_while_it_was_snoozed_stay_out_after_it_wakes(
    store: Storage,
) -> None:
    snooze_term(store, "Ferries", NOW + timedelta(hours=1), NOW - timedelta(hours=1))
    fill(store)  # found at NOW, while snoozed
    assert sendable(store, NOW) == []
    assert sendable(store, NOW + timedelta(hours=2)) == []  # awake: still held back
    store.articles.save(
        "Port News",
        [reading(6, "Winter ferry fares go up by a tenth from January.")],
        NOW + timedelta(hours=3),
        STORIES,
    )
    [fresh] = [h.id for h in store.archive.hits() if h.title == "Item 6"]
    assert sendable(store, NOW + timedelta(hours=4)) == [fresh]
    assert len(store.archive.hits()) == 4  # 3 held back and 1 sent, all listed


# -- the command line ------------------------------------------------------------------------

FERRY_TERMS = '[[terms]]\nname = "Ferries"\nquery = "ferry"\n'


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


@pytest.fixture
def desk(tmp_path: Path, storage_at: str) -> tuple[Path, dict[str, int]]:
    """A config whose database (on each backend) holds `fill`'s hits, found a minute ago."""
    config = write_config(tmp_path, [], terms=FERRY_TERMS, storage=storage_at)
    with open_storage(storage_at) as store:
        ids = fill(store, datetime.now(UTC) - timedelta(minutes=1))
    return config, ids


def listed(config: Path, *filters: str) -> list[tuple[int, bool, str | None]]:
    rows = json.loads(run(config, "hits", "--format", "json", *filters).output)
    return sorted((row["id"], row["read"], row["verdict"]) for row in rows)


def test_watcher_mark_judges_and_reads_and_hits_filters_by_the_marks(
    desk: tuple[Path, dict[str, int]],
) -> None:
    config, ids = desk
    a, b, c = ids["a"], ids["b"], ids["c"]

    assert run(config, "mark", str(a), "--not-relevant").output == f"marked hit {a}: not relevant\n"
    assert run(config, "mark", str(b), str(c), "--read", "--important").output == (
        "marked 2 hits: read, important\n"
    )
    run(config, "mark", str(c), "--unread")

    assert listed(config, "--not-relevant") == [(a, False, "not_relevant")]
    assert listed(config, "--judged") == [(a, False, "not_relevant"), (b, True, "important"),
                                          (c, False, "important")]  # fmt: skip
    assert listed(config, "--unread") == [(a, False, "not_relevant"), (c, False, "important")]
    assert listed(config, "--read") == [(b, True, "important")]
    run(config, "mark", str(a), "--clear")
    assert listed(config, "--unjudged") == [(a, False, None)]


def test_the_hits_table_shows_a_marks_column_once_a_hit_is_marked(
    desk: tuple[Path, dict[str, int]],
) -> None:
    config, ids = desk
    assert "marks" not in run(config, "hits").output.splitlines()[0]

    run(config, "mark", str(ids["a"]), "--read", "--not-relevant")

    lines = run(config, "hits").output.splitlines()
    assert lines[0].split()[:5] == ["id", "found", "term", "score", "marks"]
    [row] = [line for line in lines if line.startswith(f"{ids['a']} ")]
    assert "read, not relevant" in row


def test_marking_an_unknown_hit_is_one_line_and_marks_none(
    desk: tuple[Path, dict[str, int]],
) -> None:
    config, ids = desk

    result = run(config, "mark", str(ids["a"]), "999", "--important")

    assert result.exit_code == 2
    assert result.output == "error: no hit 999 in the database (see `watcher hits`)\n"
    assert listed(config, "--judged") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mark", "1"], "error: say what to mark: --read, --unread,"),
        (["mark", "--article", "Ferries", "999", "--relevant"], "error: no article 999 in the"),
        (["mark", "--article", "Ferrys", "1", "--relevant"], "error: no term named 'Ferrys' in"),
        (["mute", "999"], "error: no hit 999 in the database"),
        (["mute", "--story", "999", "--for", "1d"], "error: no story 999 in the database"),
        (["mute", "--story", "999", "--off"], "error: story 999 is not muted"),
        (["snooze", "Ferries"], "error: give --for DURATION to snooze, or --off"),
        (["snooze", "Ferries", "--off"], "error: term 'Ferries' is not snoozed"),
        (["snooze", "Nothing", "--for", "2d"], "error: no term named 'Nothing' in the config"),
        (["hits", "--read", "--unread"], "error: --read and --unread exclude each other"),
        (["hits", "--unjudged", "--not-relevant"], "error: --unjudged lists hits without a"),
    ],
)
def test_triage_commands_refuse_what_does_not_exist_in_one_line(
    desk: tuple[Path, dict[str, int]], args: list[str], message: str
) -> None:
    result = run(desk[0], *args)

    assert result.exit_code == 2
    assert result.output.startswith(message)
    assert result.output.count("\n") == 1


def test_watcher_mark_article_judges_a_miss_for_a_term(desk: tuple[Path, dict[str, int]]) -> None:
    config, ids = desk

    result = run(config, "mark", "--article", "Ferries", str(ids["quiet"]), "--relevant")

    assert result.output == f"judged article {ids['quiet']} for 'Ferries': relevant\n"
    with open_storage(load_config(config).database) as store:
        assert store.marks.verdict(ids["quiet"], "Ferries") == "relevant"


def test_watcher_mute_mutes_a_hits_story_for_a_while_lists_it_and_ends_it(
    desk: tuple[Path, dict[str, int]],
) -> None:
    config, ids = desk
    with open_storage(load_config(config).database) as store:
        cluster = hit(store, ids["b"]).cluster

    muted = run(config, "mute", str(ids["b"]), "--for", "7d")

    assert re.fullmatch(
        rf"story {cluster} muted until \d{{4}}-\d\d-\d\d \d\d:\d\d UTC\n", muted.output
    )
    assert run(config, "mute").output.startswith(f"story {cluster}  until ")
    assert run(config, "mute", "--story", str(cluster), "--off").exit_code == 0
    assert run(config, "mute").output == "no story is muted\n"


def test_watcher_snooze_snoozes_a_term_lists_it_and_wakes_it(
    desk: tuple[Path, dict[str, int]],
) -> None:
    config, _ = desk

    assert run(config, "snooze", "Ferries", "--for", "2d").output.startswith(
        "'Ferries' snoozed until "
    )
    assert run(config, "snooze").output.startswith("Ferries  until ")
    assert run(config, "snooze", "Ferries", "--off").output == "'Ferries' is awake\n"
    assert run(config, "snooze").output == "no term is snoozed\n"


# -- precision and recall from the judgements ------------------------------------------------


def test_judged_scores_count_hits_judged_and_misses_found_by_search(store: Storage) -> None:
    ids = fill(store)
    judge(store, ids["a"], "relevant", NOW)
    judge(store, ids["b"], "important", NOW)
    judge(store, ids["c"], "not_relevant", NOW)
    [before] = judged_scores(store)
    judge_article(store, ids["quiet"], "Ferries", "important", NOW)
    judge_article(store, ids["quiet"], "Harbours", "not_relevant", NOW)
    scores = judged_scores(store, ["Harbours", "Ferries"])

    assert (before.judged, before.precision, before.recall) == (3, 2 / 3, None)  # no miss looked at
    ferries, harbours = scores[1], scores[0]
    assert (ferries.term, ferries.relevant, ferries.important, ferries.not_relevant) == (
        "Ferries", 2, 1, 1,
    )  # fmt: skip
    assert (ferries.missed, ferries.recall) == (1, 2 / 3)
    assert (harbours.judged, harbours.precision, harbours.passed) == (0, None, 1)
    assert harbours.recall is None  # no relevant article known


def test_terms_eval_judged_prints_each_figure_with_the_counts_it_rests_on(
    desk: tuple[Path, dict[str, int]],
) -> None:
    config, ids = desk
    run(config, "mark", str(ids["a"]), str(ids["b"]), "--relevant")
    run(config, "mark", str(ids["c"]), "--not-relevant")
    run(config, "mark", "--article", "Ferries", str(ids["quiet"]), "--relevant")

    text = run(config, "terms", "eval", "--judged")
    data = json.loads(run(config, "terms", "eval", "--judged", "--format", "json").output)
    failing = run(config, "terms", "eval", "--judged", "--min-precision", "0.9")

    assert text.exit_code == 0
    assert text.output.splitlines()[:2] == [
        "term     judged  relevant  not relevant  precision  missed  recall",
        "Ferries       3         2             1       0.67       1    0.67",
    ]
    [ferries] = data["terms"]
    assert (ferries["judged"], ferries["missed"], round(ferries["recall"], 2)) == (3, 1, 0.67)
    assert failing.exit_code == 1
    assert "below the minimum: Ferries" in failing.output


def test_terms_eval_needs_a_directory_or_judged(desk: tuple[Path, dict[str, int]]) -> None:
    result = run(desk[0], "terms", "eval")

    assert result.exit_code == 2
    assert result.output == "error: give a DIRECTORY of labelled texts, or --judged\n"


def test_housekeeping_keeps_an_article_judged_for_a_term_it_did_not_hit(store: Storage) -> None:
    store.articles.save(
        "Port News",
        [
            reading(8, "The lighthouse keeper logged a calm night.", terms=()),
            reading(9, "Fog kept the fishing fleet in harbour all morning.", terms=()),
        ],
        NOW,
        STORIES,
    )
    judged, other = [
        row[0] for row in store.db.execute("SELECT id FROM articles ORDER BY id").fetchall()
    ]
    judge_article(store, judged, "Ferries", "relevant", NOW)

    pruned = store.retention.prune(articles_before=NOW + timedelta(days=1), polls_before=None)

    assert pruned.articles == 1
    assert store.marks.article_exists(judged) and not store.marks.article_exists(other)
    assert judged_scores(store)[0].missed == 1
