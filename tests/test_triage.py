"""Triage marks (issue 19) on real SQLite files: reads, verdicts, mutes, snoozes, signed links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import write_config
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
from watcher.config.load import load_config
from watcher.errors import ArgumentError
from watcher.models import Article, Entry, Match
from watcher.store import ArticleToStore, Store
from watcher.store.records import HitQuery

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
STORY = (
    "The coast guard towed the drifting ferry Meridian back to port on Tuesday night after"
    " its engine failed halfway across the strait. Two hundred passengers waited on deck"
    " for four hours while a tug came out from the northern harbour. The operator said the"
    " vessel would stay in dock for inspection until the weekend and that its crossings"
    " would be covered by the smaller Aurora."
)


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


def fill(store: Store, at: datetime = NOW) -> dict[str, int]:
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
    quiet = store.db.execute("SELECT id FROM articles WHERE title = 'Item 4'").fetchone()[0]
    return {"a": ids["Item 1"], "b": ids["Item 2"], "c": ids["Item 3"], "quiet": quiet}


def hit(store: Store, hit_id: int):  # type: ignore[no-untyped-def]
    return store.archive.hits(ids=[hit_id])[0]


def test_marks_persist_across_reopening_the_database(tmp_path: Path) -> None:
    path = tmp_path / "watcher.db"
    with Store.open(path) as store:
        ids = fill(store)
        mark_read(store, [ids["a"]], NOW)
        judge(store, ids["a"], "important", NOW)
        judge(store, ids["c"], "not_relevant", NOW)
        cluster = hit(store, ids["a"]).cluster
        assert cluster is not None
        mute_story(store, cluster, NOW, NOW + timedelta(days=7))
        snooze_term(store, "Ferries", NOW + timedelta(days=2), NOW)
    with Store.open(path) as store:
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


def test_a_hit_marked_unread_again_is_unread(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
        ids = fill(store)
        mark_read(store, [ids["a"], ids["b"]], NOW)
        mark_read(store, [ids["a"]], NOW, read=False)
        assert [hit(store, ids[n]).read for n in ("a", "b", "c")] == [False, True, False]


def test_clearing_a_verdict_leaves_the_hit_unjudged(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
        ids = fill(store)
        judge(store, ids["a"], "relevant", NOW)
        judge(store, ids["a"], "not_relevant", NOW)
        assert hit(store, ids["a"]).verdict == "not_relevant"
        judge(store, ids["a"], None, NOW)
        assert hit(store, ids["a"]).verdict is None


def test_judging_an_article_for_its_term_is_judging_its_hit(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
        ids = fill(store)
        article_id = store.marks.hit_pairs([ids["c"]])[ids["c"]][0]
        judge_article(store, article_id, "Ferries", "not_relevant", NOW)
        assert hit(store, ids["c"]).verdict == "not_relevant"


def test_an_article_the_term_missed_can_be_judged_for_it(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
        ids = fill(store)
        judge_article(store, ids["quiet"], "Ferries", "relevant", NOW)
        assert store.marks.verdict(ids["quiet"], "Ferries") == "relevant"
        assert len(store.archive.hits()) == 3  # a judgement makes no hit


def test_unknown_hits_articles_stories_and_verdicts_are_one_line_errors(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
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


def test_hits_filter_by_read_judged_and_verdict(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
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
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
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


def test_hits_found_while_muted_or_snoozed_say_so(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
        ids = fill(store)
        assert not hit(store, ids["a"]).muted
        cluster = hit(store, ids["a"]).cluster
        assert cluster is not None
        mute_story(store, cluster, NOW - timedelta(hours=1))
        snooze_term(store, "Ferries", NOW + timedelta(hours=1), NOW - timedelta(hours=1))
        a, c = hit(store, ids["a"]), hit(store, ids["c"])
        assert (a.muted, a.snoozed) == (True, True)
        assert (c.muted, c.snoozed) == (False, True)


def test_waking_a_term_ends_its_snooze(tmp_path: Path) -> None:
    with Store.open(tmp_path / "watcher.db") as store:
        snooze_term(store, "Ferries", NOW + timedelta(days=2), NOW)
        wake_term(store, "Ferries", NOW + timedelta(hours=1))
        assert snoozed_terms(store, NOW + timedelta(hours=2)) == []


# -- signed links --------------------------------------------------------------------


def test_a_hit_links_to_its_page_on_the_desk(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, [], extra='[web]\nurl = "https://desk.example/w/"'))
    assert hit_url(config, 42) == "https://desk.example/w/hits/42"


def test_the_not_relevant_link_is_signed_for_its_hit_and_action_only(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, [], extra='[web]\nurl = "https://desk.example"'))
    with Store.open(config.db_path) as store:
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


def test_signatures_hold_across_reopening_and_differ_between_databases(tmp_path: Path) -> None:
    with Store.open(tmp_path / "one.db") as store:
        signature = store.marks.sign(42, NOT_RELEVANT)
    with Store.open(tmp_path / "one.db") as store:
        assert verify_link(store, 42, NOT_RELEVANT, signature)
    with Store.open(tmp_path / "two.db") as other:
        assert not verify_link(other, 42, NOT_RELEVANT, signature)
