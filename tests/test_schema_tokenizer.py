"""Migration m007 indexes with its own frozen tokenizer, not the live one."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from watcher.match import words
from watcher.store import schema, tokenizer_m007

TEXTS = [
    "Harbour dredging resumes, after a two-week pause.",
    "ＦＵＬＬ－ＷＩＤＴＨ letters_and_digits 1,150 U.S. Navy",
    "日印の戦略対話が東京で開かれた。",
    "भारत और जापान की बैठक। नई दिल्ली",
    "Cafe\u0301 crème – Mumbai–Ahmedabad (rail) [2026]",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_frozen_tokenizer_agrees_with_the_live_one_today(text: str) -> None:
    assert tokenizer_m007.index_text(text) == words.index_text(text)


@given(st.text(max_size=200))
def test_the_frozen_tokenizer_agrees_with_the_live_one_on_any_text(text: str) -> None:
    assert tokenizer_m007.index_text(text) == words.index_text(text)


def test_m007_indexes_old_articles_whatever_the_live_tokenizer_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(tmp_path / "watcher.db")
    schema.migrations.apply(db, stop_before="m007_search")
    db.execute(
        "INSERT INTO articles (key, url, title, text, source, feed, first_seen_at, changed_at)"
        " VALUES ('k', 'https://news.example/1', 'Dredging resumes', 'Dredgers returned',"
        " 'page', 'Port News', '2026-11-20', '2026-11-20')"
    )
    db.conn.commit()

    def changed(text: str) -> str:
        raise AssertionError("m007 called the live tokenizer")

    monkeypatch.setattr(words, "index_text", changed)
    monkeypatch.setattr(schema, "index_text", changed, raising=False)
    schema.migrations.apply(db, stop_before="m008_fingerprint_index")

    found = db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'dredgers'")
    assert found.fetchall() == [(1,)]
