"""Rendering a digest: what a reader sees in the text and HTML parts."""

from __future__ import annotations

import re

from watcher.delivery.digest import build, render, to_json
from watcher.models import Hit, HitLinks

LEAD = Hit(
    id=1,
    term="Ahmedabad–Mumbai HSR",
    url="https://coast.example/a2",
    title="Viaduct for the bullet train completed",
    published="2026-11-23T19:31:00+00:00",
    feed="Coastline Daily",
    snippet="NHSRCL said the viaduct is complete.",
    score=4.0,
    found_at="2026-11-23T19:40:00+00:00",
    source="page",
    cluster=7,
    outlets=2,
    outlet_names=("Coastline Daily", "Eastern Ledger"),
)


def test_headline_links_look_like_links_in_the_html_digest() -> None:
    html = render(build("msg_1", "desk", "2026-11-23T20:00:00+00:00", [LEAD])).html

    [style] = re.findall(r'<a href="https://coast.example/a2" style="([^"]*)"', html)
    assert "text-decoration:underline" in style
    assert "color:#1d4ed8" in style


def test_digest_times_are_in_the_channels_time_zone() -> None:
    digest = build("msg_1", "desk", "2026-11-23T20:00:00+00:00", [LEAD], timezone="Asia/Kolkata")

    rendered = render(digest)

    assert "2026-11-24 01:01 IST" in rendered.text  # published 19:31 UTC
    assert "2026-11-24 01:30 IST" in rendered.text  # the digest's own time
    assert "UTC" not in rendered.text
    assert "2026-11-24 01:01 IST" in rendered.html


def test_a_story_reported_by_several_outlets_names_them() -> None:
    rendered = render(build("msg_1", "desk", "2026-11-23T20:00:00+00:00", [LEAD]))

    assert "reported by 2 outlets: Coastline Daily and Eastern Ledger" in rendered.text
    assert "reported by 2 outlets: Coastline Daily and Eastern Ledger" in rendered.html


def test_many_outlets_are_named_up_to_five() -> None:
    names = tuple(f"Outlet {letter}" for letter in "ABCDEFG")
    hit = Hit(**{**LEAD.__dict__, "outlets": 7, "outlet_names": names})

    text = render(build("msg_1", "desk", "2026-11-23T20:00:00+00:00", [hit])).text

    assert (
        "reported by 7 outlets: Outlet A, Outlet B, Outlet C, Outlet D, Outlet E and 2 more"
    ) in text


def test_every_hit_of_a_story_carries_its_desk_and_not_relevant_links() -> None:
    copy = Hit(**{**LEAD.__dict__, "id": 2, "feed": "Eastern Ledger", "url": "https://e.example/b"})
    links = {
        hit_id: HitLinks(f"https://desk.example/hits/{hit_id}", f"https://desk.example/n/{hit_id}")
        for hit_id in (1, 2)
    }

    rendered = render(
        build("msg_1", "desk", "2026-11-23T20:00:00+00:00", [LEAD, copy], links=links)
    )

    for hit_id in (1, 2):
        assert f"desk: https://desk.example/hits/{hit_id}\n" in rendered.text
        assert f"not relevant: https://desk.example/n/{hit_id}\n" in rendered.text
        assert f'<a href="https://desk.example/hits/{hit_id}"' in rendered.html
        assert f'<a href="https://desk.example/n/{hit_id}"' in rendered.html
    assert (
        to_json(build("msg_1", "desk", "", [LEAD], links=links))["data"]["terms"][0]["stories"][0][
            "hits"
        ][0]["not_relevant_url"]
        == "https://desk.example/n/1"
    )


def test_a_digest_built_without_links_shows_none() -> None:
    rendered = render(build("msg_1", "desk", "2026-11-23T20:00:00+00:00", [LEAD]))

    assert "not relevant" not in rendered.text.lower()
    assert "not relevant" not in rendered.html.lower()
