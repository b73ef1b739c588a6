"""The web desk's test database: the fixture site plus a second copy of one story and a
hostile entry, polled for real once per session (tests/test_web*.py copy it, or clone
its PostgreSQL copy)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from conftest import SITE, Site, write_config
from watcher.cli import cli

FEEDS = [
    ("Coastline Daily", "/news.rss"),
    ("Eastern Ledger", "/world.atom"),
    ("Harbour Wire", "/briefs.json"),
    ("Bay Courier", "/bay.json"),
]
HOSTILE_TITLE = "{{ 7*7 }} <script>alert(1)</script>\x00\x1b[2J Tokyo minerals talks"
HOSTILE_TEXT = (
    "<img src=x onerror=alert(1)> The India–Japan Joint Working Group on Critical Minerals"
    " met again in Tokyo; {{ config }} was not on the agenda."
)


def bay_feed(base: str) -> str:
    """A JSON feed with a second outlet's copy of a1 and an entry full of markup."""
    items = [
        {
            "id": "bay-a11",
            "url": f"{base}/articles/a11.html",
            "title": "India and Japan map out rare earth supply links at Tokyo talks",
            "date_published": "2026-11-03T10:00:00+05:30",
            "content_text": "Officials compared notes on rare earths.",
        },
        {
            "id": "bay-hostile",
            "url": f"{base}/articles/hostile.html",  # 404: the entry's own text is matched
            "title": HOSTILE_TITLE,
            "date_published": "2026-11-06T10:00:00+05:30",
            "content_text": HOSTILE_TEXT,
        },
    ]
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Bay Courier",
        "items": items,
    }
    return json.dumps(feed)


def fill(folder: Path) -> tuple[Path, Path]:
    """Poll the farm into `folder`; (config, database)."""
    site = Site()
    try:
        site.put_fixture_site()
        copy = (SITE / "articles" / "a1.html").read_text(encoding="utf-8")
        copy = copy.replace("{base}", site.base).replace("a1.html", "a11.html")
        site.put("/articles/a11.html", copy.replace("Coastline Daily", "Bay Courier"))
        site.put("/bay.json", bay_feed(site.base), "application/feed+json")
        config = write_config(folder, [(name, site.base + path) for name, path in FEEDS])
        result = CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"])
        assert result.exit_code == 0, result.output
    finally:
        site.close()
    return config, folder / "watcher.db"


def postgres_template(server: Any, database: Path) -> str:
    """`database` copied into a fresh PostgreSQL database of `server` (tests/pgserver.py)
    that tests clone (`create_database(template=...)`); its name."""
    from watcher.store.copy import copy_database

    url, name = server.create_database()
    copy_database(str(database), url, datetime.now(UTC))
    return name


def desk_config(folder: Path, polled: Path | str, extra: str = "") -> Path:
    """A config in `folder` over the polled database, with a preview channel: a copy of
    the file `polled`, or the PostgreSQL database at the URL `polled` (the test's own)."""
    if isinstance(polled, Path):
        shutil.copy(polled, folder / "watcher.db")
    channel = "\n".join(
        [
            "[[channels]]",
            'name = "desk"',
            'type = "email"',
            'schedule = "0 7 * * *"',
            'host = "127.0.0.1"',
            "port = 9",  # never sent to: the desk only previews
            'security = "none"',
            'from = "watcher@newsroom.example"',
            'to = ["desk@newsroom.example"]',
        ]
    )
    config = write_config(
        folder,
        [(name, f"https://example.org{path}") for name, path in FEEDS],
        extra=extra,
        storage=polled if isinstance(polled, str) else None,
    )
    with config.open("a", encoding="utf-8") as file:
        file.write("\n" + channel + "\n")
    return config
