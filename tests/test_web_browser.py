"""The web desk end to end in a real browser: Debian's Chromium driven by Playwright,
against `watcher web` on 127.0.0.1 over a database a real poll filled (SQLite; one
test runs on a PostgreSQL copy as well).

Skipped, saying why, only where no Chromium can be had (`.ci/run` installs it).
The screenshots in docs/ (README.md shows them) are taken here: every run takes
them, into the test's own folder, and into docs/ when asked to
(`WATCHER_SCREENSHOTS=docs .venv/bin/pytest tests/test_web_browser.py`), so a
test run leaves the checkout as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, free_port
from web_farm import desk_config, fill, postgres_template

expect: Any
try:
    from playwright.sync_api import expect
except ImportError:  # the tests skip, saying why
    expect = None
pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("WATCHER_CHROMIUM", "/usr/bin/chromium")
T3, T4 = "UNICORN antenna", "Ahmedabad–Mumbai HSR"
SHOTS = os.environ.get("WATCHER_SCREENSHOTS")  # a folder (relative to the checkout)


def screenshot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / name))
    if SHOTS:
        shutil.copyfile(folder / name, ROOT / SHOTS / name)


def _playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        pytest.skip(
            "the playwright package is not installed (pip install -r requirements-dev.lock)"
        )
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium, or WATCHER_CHROMIUM)")
    return sync_playwright


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, database = fill(tmp_path_factory.mktemp("browser-farm"))
    return database


@pytest.fixture
def farm_at(request: pytest.FixtureRequest, farm: Path) -> Iterator[Path | str]:
    """Where `served` finds the farm: the SQLite file, or for a test parametrised with
    `farm_at` "postgres" (indirect), the URL of a PostgreSQL copy of it, its own."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield farm
        return
    server = request.getfixturevalue("postgres_server")
    name = postgres_template(server, farm)
    yield server.url(name)
    server.drop_database(name)


@pytest.fixture
def served(tmp_path: Path, farm_at: Path | str) -> Iterator[str]:
    """`watcher web` on a free loopback port; its address."""
    config = desk_config(tmp_path, farm_at)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "web", "--listen",
         f"127.0.0.1:{port}"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        line = process.stderr.readline()  # "watcher: web desk at http://127.0.0.1:PORT/ ..."
        assert "web desk at" in line, line + process.stderr.read()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def browser_page(served: str) -> Iterator[Any]:
    sync_playwright = _playwright()
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
        except Exception as exc:  # a Chromium that cannot start here (no sandbox, no libs)
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {str(exc).splitlines()[0]}")
        page = browser.new_page(viewport={"width": 1280, "height": 900}, base_url=served)
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            browser.close()


def count(page: Any, name: str) -> str:
    return str(page.locator(f"#count-{name}").inner_text())


def test_desk_filters_and_opens_a_story_cluster(browser_page: Any, tmp_path: Path) -> None:
    page = browser_page
    page.goto("/")
    screenshot(page, tmp_path, "desk.png")
    stories = page.locator("article.story")
    everything = stories.count()
    cluster = page.locator("details.cluster").first

    cluster.locator("summary").click()

    assert cluster.evaluate("node => node.open") is True
    assert cluster.locator(".hit").first.is_visible()
    page.select_option("select[name=term]", T4)
    page.click("#filters button")
    page.wait_for_url("**/?term=*")
    assert 0 < stories.count() < everything
    assert set(page.locator(".hit .term").all_inner_texts()) == {T4}


def test_term_editor_preview_counts_follow_the_edited_query(
    browser_page: Any, tmp_path: Path
) -> None:
    page = browser_page
    page.goto("/tune?term=" + T3)
    assert count(page, "new") == "0" and count(page, "caught") == "1"

    page.fill("#query", "unicorn AND startup")

    expect(page.locator("#count-new")).to_have_text("1")  # no eval: the page's CSP forbids it
    assert count(page, "lost") == "1"
    assert page.locator("#save-query").input_value() == "unicorn AND startup"
    screenshot(page, tmp_path, "term-editor.png")


def test_saving_an_edited_term_writes_the_config(browser_page: Any, served: str) -> None:
    page = browser_page
    page.goto("/tune?term=" + T3)
    page.fill("#query", '"Unified Complex Radio Antenna" OR "stealth mast"')
    expect(page.locator("#save-query")).to_have_value(re.compile("stealth"))

    page.click("#save button")

    page.wait_for_selector(".notice")
    notice = page.locator(".notice").inner_text()
    assert "Saved." in notice and "No service is running here" in notice
    assert "stealth mast" in page.locator("#query").input_value()


def test_chromium_is_there_when_ci_says_so() -> None:
    """In CI (`.ci/run` installs chromium) the browser tests must run, not skip."""
    if os.environ.get("CI") and not shutil.which("chromium") and not Path(CHROMIUM).exists():
        pytest.fail("CI is set but no Chromium is installed: .ci/run should have installed it")


def digest_hits(page: Any) -> int:
    page.goto("/digest")
    return int(page.locator('[data-channel="desk"] .digest-hits').inner_text())


def test_marking_a_hit_not_relevant_takes_it_out_of_the_digest_preview(browser_page: Any) -> None:
    page = browser_page
    before = digest_hits(page)
    page.goto("/?term=" + T3)
    hit = page.locator(".hit").first

    hit.locator("button.not_relevant").click()

    page.wait_for_url("**/?term=*")
    expect(page.locator(".hit .verdict").first).to_have_text("not relevant")
    assert digest_hits(page) == before - 1


@pytest.mark.parametrize("farm_at", ["sqlite", "postgres"], indirect=True)
def test_every_page_and_triage_action_works_in_the_browser(browser_page: Any) -> None:
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    page.goto("/search?q=unicorn")
    expect(page.locator("article.story")).to_have_count(2)
    page.goto("/health")
    expect(page.locator("table.feeds tbody tr")).to_have_count(4)
    page.goto("/")
    first = page.locator(".hit").first
    first.locator("button", has_text="Mark read").click()
    expect(page.locator(".hit").first.locator(".badge", has_text="read")).to_be_visible()
    page.locator(".hit").first.locator("button", has_text="Important").click()
    expect(page.locator(".hit").first.locator(".verdict")).to_have_text("important")
    page.locator("form.mute button").first.click()
    expect(page.locator(".quiet li", has_text="muted for good")).to_have_count(1)
    page.locator(".quiet button", has_text="Unmute").click()
    expect(page.locator(".quiet li", has_text="muted for good")).to_have_count(0)
    if not page.locator("details.quiet").evaluate("node => node.open"):
        page.locator("details.quiet summary").click()
    page.select_option("form.snooze select[name=term]", T3)
    page.click("form.snooze button")
    expect(page.locator(".quiet li", has_text=f"term {T3} snoozed until")).to_have_count(1)
    page.goto("/judged")
    expect(page.locator("tr[data-term] .precision")).to_have_text("1.00")
    page.locator("table.judged a", has_text="tune").click()
    expect(page.locator("#query")).to_be_visible()

    assert errors == []  # no script error, no CSP violation reported
