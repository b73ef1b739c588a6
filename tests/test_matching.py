"""The fast matcher against the plain one: the same matches, places and explanations.

`Matcher` searches folded texts in place and evaluates only the terms the
anchor automaton picks; these tests compare it with splitting every text
into words and evaluating every term, and with a deliberately simple
reference evaluator.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import re
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import watcher.match.anchors as anchors_module
import watcher.match.near as near_module
import watcher.match.terms as terms_module
from watcher.config.load import load_config
from watcher.errors import QueryError
from watcher.match.near import SCOPE_CLOSENESS
from watcher.match.query import AllOf, AnyOf, Field, Leaf, Node, Not
from watcher.match.snippets import SNIPPET_AFTER, SNIPPET_BEFORE, adjoins, snippet
from watcher.match.terms import Matcher, Term, compile_term
from watcher.match.units import paragraph_starts, sentence_starts
from watcher.match.words import Words
from watcher.models import Match

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("WATCHER_HYPOTHESIS_EXAMPLES", "300"))


@pytest.fixture(scope="module")
def shipped_terms() -> tuple[Term, ...]:
    return load_config(ROOT / "config" / "watcher.toml").terms


# --- the fast way of matching gives what the plain way gives ------------------------
# `Matcher` searches folded texts in place (`FoldedWords`) and evaluates only the
# terms the anchor automaton picks; the plain way splits every title and text into
# words (`Words`) and evaluates every term. Both must give the same matches.

WORDS = [
    *["india", "India", "INDIA", "japan", "Japan", "rail", "railway", "rails", "unicorn"],
    *["UNICORN", "ai", "AI", "dialogue", "n2", "2", "high", "speed", "東京", "の", "東"],
    *["रेल", "रोल", "straße", "strasse", "café", "cafe\u0301", "ＡＩ", "İstanbul", "x²"],
    *["india", "India", "japan", "rail", "AI", "high", "speed", "unicorn", "dialogue"] * 3,
]
BETWEEN = [
    *[" ", " ", " ", "  ", "\n", "-", "–", ", ", ". ", "’s ", " “", "” ", " (", ") "],
    *["…", "\xa0", "_", "™ ", "½", " ․ ", "\u200d", "、", "。", "\u0345", "", "/", ": "],
    *["\n\n", "! ", " U.S. "],
]
ARTICLE = st.lists(
    st.tuples(st.sampled_from(WORDS), st.sampled_from(BETWEEN)), min_size=3, max_size=60
).map(lambda pairs: "".join(word + between for word, between in pairs))
QUERY_WORDS = ["india", "japan", "rail", "rail*", "uni*", "=UNICORN", "ai", "=AI", "2", "東京"]
QUERY_WORDS += ["railway"]  # starts "rail": both found at one place
QUERY_WORDS += ["रेल", "straße", "café", "ＡＩ", "x²", '"high speed"', '"india japan"', '"2½"']
QUERY_WORDS += ['"rail, india"', '"india’s rail"', "=India", '="AI dialogue"', "istanbul", "の"]
QUERY_WORDS += ['"india japan"~1', '"rail india rail*"~3', '="AI dialogue"~2', '"東京 の"~2']


def _joined(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda p: f"({p[0]} OR {p[1]})"),
        pair.map(lambda p: f"({p[0]} AND {p[1]})"),
        pair.map(lambda p: f"({p[0]} AND NOT {p[1]})"),
        st.tuples(children, st.sampled_from([0, 1, 2, 5]), children).map(
            lambda p: f"({p[0]} NEAR/{p[1]} {p[2]})"
        ),
        st.tuples(children, st.sampled_from([0, 1, 3]), children).map(
            lambda p: f"({p[0]} ONEAR/{p[1]} {p[2]})"
        ),
        st.tuples(children, st.sampled_from(["/s", "/p", "NEAR/s"]), children).map(
            lambda p: f"({p[0]} {p[1]} {p[2]})"
        ),
        children.map(lambda c: f"title:{c}"),
    )


QUERY = st.recursive(st.sampled_from(QUERY_WORDS), _joined, max_leaves=5)


def plain_matches(terms: list[Term], title: str, text: str) -> list[Match]:
    """Every term evaluated on the title and text split into words: no prefilter, no folding."""
    with patch.object(terms_module, "fold_in_place", lambda text: None):
        article = terms_module.PreparedArticle(title, text)
        found = [(term, terms_module.evaluate(term.tree, article, (0, 1))) for term in terms]
        return [terms_module._explain(term, f, article) for term, f in found if f.ok]


Place = tuple[int, int, int]  # field, first word, one past the last word


def reference_matches(
    terms: list[Term], title: str, text: str
) -> list[tuple[str, int, float, tuple[str, ...], bool, str]]:
    """What each match must say, worked out as plainly as can be (every pair of places for
    NEAR, every word position for a leaf): term, count, score, clauses, in_title, phrase."""
    fields = (Words(title), Words(text))
    summary = []
    for term in terms:
        ok, places, closeness = _reference(term.tree, fields, (0, 1))
        if not ok:
            continue
        clause: dict[Place, str] = {}
        for place, source in places:
            clause.setdefault(place, source)  # the first clause found at a place names it
        keys = sorted(clause)
        in_title = sum(1 for key in keys if key[0] == 0)
        in_text = len(keys) - in_title
        first = next(key for key in keys if key[0] == (1 if in_text else 0))
        words = fields[first[0]]
        phrase = words.text[words.spans[first[1]][0] : words.spans[first[2] - 1][1]]
        score = round(3.0 * in_title + in_text + closeness, 2)
        clauses = tuple(dict.fromkeys(clause[key] for key in keys))
        summary.append((term.name, len(keys), score, clauses, in_title > 0, phrase))
    return summary


def _reference(
    node: Node, fields: tuple[Words, Words], where: tuple[int, ...]
) -> tuple[bool, list[tuple[Place, str]], float]:
    if isinstance(node, Leaf):
        places = [
            ((f, i, end), node.source)
            for f in where
            for i in range(len(fields[f].folded))
            if (end := _leaf_end(node, fields[f], i)) != -1
        ]
        return bool(places), places, 0.0
    if isinstance(node, Field):
        return _reference(node.part, fields, (("title", "text").index(node.name),))
    if isinstance(node, Not):
        return not _reference(node.part, fields, where)[0], [], 0.0
    if isinstance(node, AnyOf | AllOf):
        found = [_reference(part, fields, where) for part in node.parts]
        hits = [f for f in found if f[0]]
        if not hits or (isinstance(node, AllOf) and len(hits) < len(found)):
            return False, [], 0.0
        return True, [p for f in hits for p in f[1]], sum(f[2] for f in hits)
    left, right = _reference(node.left, fields, where), _reference(node.right, fields, where)
    if not (left[0] and right[0]):
        return False, [], 0.0
    kept: dict[Place, str] = {}
    closeness = 0.0
    if node.scope:
        split = sentence_starts if node.scope == "s" else paragraph_starts

        def unit(place: Place) -> tuple[int, int]:
            words = fields[place[0]]
            return place[0], bisect.bisect_right(split(words.text), words.spans[place[1]][0])

        shared = set()
        for one, one_clause in left[1]:
            for other, other_clause in sorted(right[1], key=lambda pair: pair[0]):
                if unit(one) == unit(other) and other != one:
                    kept.setdefault(one, one_clause)
                    kept.setdefault(other, other_clause)
                    shared.add(unit(one))
        closeness = SCOPE_CLOSENESS[node.scope] * len(shared)
        return bool(kept), sorted(kept.items()), closeness + left[2] + right[2]
    for one, one_clause in left[1]:
        for other, other_clause in sorted(right[1], key=lambda pair: pair[0]):
            gap = max(other[1] - one[2], one[1] - other[2], 0)
            if node.ordered and not (other[0] == one[0] and other[1] >= one[2]):
                continue  # ONEAR: the right side after the left, apart
            if other[0] == one[0] and gap <= node.distance and other != one:
                kept.setdefault(one, one_clause)
                kept.setdefault(other, other_clause)
                closeness += (node.distance + 1 - gap) / (node.distance + 1)
    return bool(kept), sorted(kept.items()), closeness + left[2] + right[2]


def _leaf_end(leaf: Leaf, words: Words, start: int) -> int:
    """Where the leaf's place starting at word `start` ends soonest, or -1 if none starts there:
    its words in order, at most `leaf.slop` other words in between, tried every way."""
    last = len(leaf.words) - 1

    def fits(k: int, at: int) -> bool:
        prefix = leaf.prefix and k == last
        have = words.folded[at]
        if not (have.startswith(leaf.words[k]) if prefix else have == leaf.words[k]):
            return False
        if leaf.exact is not None:
            have, want = words.exact[at], leaf.exact[k]
            if not (have.startswith(want) if prefix else have == want):
                return False
        return True

    def end(k: int, at: int, room: int) -> int:  # word k at `at`: where the rest ends, soonest
        if at >= len(words.folded) or not fits(k, at):
            return -1
        if k == last:
            return at + 1
        ends = [end(k + 1, at + 1 + gap, room - gap) for gap in range(room + 1)]
        return min((e for e in ends if e != -1), default=-1)

    return end(0, start, leaf.slop)


def plain_locate(terms: list[Term], title: str, text: str) -> tuple[list[Any], list[Any]]:
    with patch.object(terms_module, "fold_in_place", lambda text: None):
        return Matcher(terms).locate(title, text)


def compiled(queries: list[str]) -> list[Term]:
    found = []
    for index, query in enumerate(queries):
        with contextlib.suppress(QueryError):
            found.append(compile_term(f"t{index}", query))
    return found


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(QUERY, min_size=1, max_size=4), ARTICLE, ARTICLE)
def test_fast_matching_gives_the_matches_of_plain_matching(
    queries: list[str], title: str, text: str
) -> None:
    terms = compiled(queries)

    matches = Matcher(terms).match(title, text)

    assert matches == plain_matches(terms, title, text)
    assert [
        (m.term, m.count, m.score, m.clauses, m.in_title, m.phrase) for m in matches
    ] == reference_matches(terms, title, text)


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(QUERY, min_size=1, max_size=4), ARTICLE, ARTICLE)
def test_fast_locating_gives_the_places_of_plain_locating(
    queries: list[str], title: str, text: str
) -> None:
    terms = compiled(queries)

    assert Matcher(terms).locate(title, text) == plain_locate(terms, title, text)


def test_fast_matching_gives_the_matches_of_plain_matching_on_the_labelled_corpus(
    shipped_terms: tuple[Term, ...],
) -> None:
    extra = compiled(
        ["japan NEAR/2 india", '"prime minister" OR modi*', "tokyo AND NOT delhi", "rail*"]
    )
    terms = [*shipped_terms, *extra]
    matcher = Matcher(terms)
    for path in sorted((ROOT / "tests" / "corpus").glob("[0-9][0-9][0-9].txt")):
        head, _, text = path.read_text(encoding="utf-8").partition("\n---\n")
        title = dict(line.split(":", 1) for line in head.splitlines())["title"].strip()

        assert matcher.match(title, text) == plain_matches(terms, title, text), path.name


# --- anchor words looked for where words start ----------------------------------------
# `Matcher` looks for anchor words of ASCII letters and digits at word starts in an ASCII
# copy of the text (`watcher.match.anchors.ascii_words`), not anywhere in the text.


def test_the_ascii_copy_keeps_each_ascii_word_in_its_place_after_a_space() -> None:
    view = anchors_module.ascii_words("“kari” café 東京 x_1,a")

    assert view == b"  kari  caf     x_1 a "


def test_anchor_words_are_found_at_every_kind_of_word_start() -> None:
    queries = ["kari", "senlo*", "tomu", '"va pe"', "quaost NEAR/2 kari", "dri AND NOT el"]
    terms = compiled(queries)
    matcher = Matcher(terms)
    title = "Kari"
    text = "“Tomu” (senlorita) va-pe\nkari_x kari… quaost—KARI drí dri, ｔｏｍｕ"

    matches = matcher.match(title, text)

    assert matches == plain_matches(terms, title, text)
    assert [m.term for m in matches] == ["t0", "t1", "t2", "t3", "t4", "t5"]


# --- NEAR looks for its right side only around the places of its left ----------------

LONG_ARTICLE = st.lists(
    st.tuples(st.sampled_from(WORDS), st.sampled_from(BETWEEN)), min_size=60, max_size=300
).map(lambda pairs: "".join(word + between for word, between in pairs))
WORDS_ONLY = st.lists(st.sampled_from(QUERY_WORDS), min_size=1, max_size=3).map(
    lambda words: f"({' OR '.join(words)})"
)
NEAR_QUERY = st.tuples(
    st.sampled_from(QUERY_WORDS), st.sampled_from([0, 1, 5, 30]), WORDS_ONLY
).map(lambda p: f"{p[0]} NEAR/{p[1]} {p[2]}")


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NEAR_QUERY, min_size=1, max_size=3), ARTICLE, LONG_ARTICLE)
def test_near_around_the_left_places_gives_the_matches_of_near_everywhere(
    queries: list[str], title: str, text: str
) -> None:
    terms = compiled(queries)
    with patch.object(near_module, "_FEW", 10_000):  # always around the left places
        matches = Matcher(terms).match(title, text)

    assert matches == plain_matches(terms, title, text)
    assert [
        (m.term, m.count, m.score, m.clauses, m.in_title, m.phrase) for m in matches
    ] == reference_matches(terms, title, text)


# --- checking for the words a term needs before evaluating it -----------------------


@settings(max_examples=EXAMPLES, deadline=None)
@given(QUERY, ARTICLE)
def test_the_groups_of_needed_words_hold_exactly_where_the_query_walk_says_possible(
    query: str, text: str
) -> None:
    terms = compiled([query])
    assume(terms)
    tree = terms[0].tree
    groups = anchors_module.needed(tree)
    assume(groups is not None)
    folded = Words(text).folded_text
    possible = anchors_module.possible(tree, folded)

    assert anchors_module.holds(groups, folded) == possible


# --- snippets: the quick way for windows one-spaced but for line breaks -------------


def reference_snippet(text: str, places: list[tuple[int, int]]) -> tuple[str, tuple[Any, ...]]:
    """The snippet made the plain way: the window cut at spaces, the marks in it, and the
    pieces between them made one-spaced one by one with a regex."""
    begin, end = places[0]
    left = max(0, begin - SNIPPET_BEFORE)
    if left > 0 and " " in text[left:begin]:
        left = text.index(" ", left, begin) + 1
    right = min(len(text), end + SNIPPET_AFTER)
    if right < len(text) and " " in text[end:right]:
        right = text.rindex(" ", end, right)
    marks: list[tuple[int, int]] = []
    for start, stop in places:
        if start < left or stop > right or (marks and start < marks[-1][1]):
            continue
        if marks and adjoins(text, marks[-1][1], start):
            marks[-1] = (marks[-1][0], stop)
        else:
            marks.append((start, stop))
    pieces, highlights, position = ["…" if left > 0 else ""], [], left
    for start, stop in marks:
        pieces.append(re.sub(r"\s+", " ", text[position:start]))
        offset = len("".join(pieces))
        pieces.append(re.sub(r"\s+", " ", text[start:stop]))
        highlights.append((offset, offset + len(pieces[-1])))
        position = stop
    pieces += [re.sub(r"\s+", " ", text[position:right]), "…" if right < len(text) else ""]
    shown = "".join(pieces)
    lead = len(shown) - len(shown.lstrip())
    return shown.strip(), tuple((a - lead, b - lead) for a, b in highlights)


@st.composite
def text_and_places(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    """A text of words and what lies between them, and places that begin and end on words
    (as matches do), in order."""
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(WORDS), st.sampled_from([*BETWEEN, "\n\n", " \n"])),
            min_size=1,
            max_size=90,
        )
    )
    lead = draw(st.sampled_from(["", " ", "\n"]))
    text, words = lead, []
    for word, between in pairs:
        words.append((len(text), len(text) + len(word)))
        text += word + between
    spans = st.tuples(st.integers(0, len(words) - 1), st.integers(0, 2))
    chosen = draw(st.lists(spans, min_size=1, max_size=6))
    places = {(words[i][0], words[min(i + n, len(words) - 1)][1]) for i, n in chosen}
    return text, sorted(places)


@settings(max_examples=EXAMPLES * 3, deadline=None)
@given(text_and_places())
def test_snippets_are_those_of_the_plain_way(case: tuple[str, list[tuple[int, int]]]) -> None:
    text, places = case

    assert snippet(text, places) == reference_snippet(text, places)


def test_a_snippet_made_the_quick_way_has_its_line_breaks_as_spaces() -> None:
    text = "First line.\nSecond line names Kari Senlo here.\nThird line."

    shown, highlights = snippet(text, [(30, 40)])  # "Kari Senlo"

    assert shown == "First line. Second line names Kari Senlo here. Third line."
    assert highlights == ((30, 40),)


def test_near_reaches_a_phrase_whose_inserted_words_make_it_longer() -> None:
    """Found by the property test above: looking for the right side only around the left's
    places, the window allowed for the phrase's words but not for the ones `~n` inserts."""
    matcher = Matcher([compile_term("t", 'rail NEAR/0 "AI dialogue"~2')])

    matches = matcher.match("", "india " * 60 + "AI india dialogue rail")

    assert [(match.term, match.phrase) for match in matches] == [("t", "AI india dialogue")]
