"""The HTTP client against a real loopback server."""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import gzip
import socket
import threading
import time
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from conftest import Site
from watcher.errors import FetchError
from watcher.models import FetchResult
from watcher.sources import http as fetch
from watcher.sources.http import Fetcher
from watcher.sources.settings import FetchConfig

pytestmark = pytest.mark.slow

LOOPBACK_OK = FetchConfig(timeout=5.0, allow_private_addresses=True)


def get(settings: FetchConfig, url: str, **kw: object) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(settings) as fetcher:
            return await fetcher.get(url, **kw)  # type: ignore[arg-type]

    return asyncio.run(go())


def test_fetch_returns_body_and_validators(site: Site) -> None:
    site.put("/feed.xml", "<rss/>")

    result = get(LOOPBACK_OK, f"{site.base}/feed.xml")

    assert (result.status, result.content) == (200, b"<rss/>")
    assert result.etag and result.etag.startswith('"')
    assert result.last_modified == "Mon, 21 Sep 2026 14:13:20 GMT"


def test_matching_etag_is_answered_by_304(site: Site) -> None:
    site.put("/feed.xml", "<rss/>")
    first = get(LOOPBACK_OK, f"{site.base}/feed.xml")

    second = get(LOOPBACK_OK, f"{site.base}/feed.xml", etag=first.etag)

    assert (second.status, second.content) == (304, b"")
    assert site.request_headers[-1]["If-None-Match"] == first.etag


def test_requests_carry_the_configured_user_agent(site: Site) -> None:
    site.put("/feed.xml", "<rss/>")
    settings = dataclasses.replace(
        LOOPBACK_OK, user_agent="watcher-test/1 (+mailto:ops@example.org)"
    )

    get(settings, f"{site.base}/feed.xml")

    assert site.request_headers[-1]["User-Agent"] == "watcher-test/1 (+mailto:ops@example.org)"


def test_gzip_responses_are_decoded(site: Site) -> None:
    site.gzip = True
    site.put("/page.html", "<p>" + "compressible " * 500 + "</p>")

    result = get(LOOPBACK_OK, f"{site.base}/page.html")

    assert result.content.startswith(b"<p>compressible compressible")
    assert len(result.content) == len("<p>" + "compressible " * 500 + "</p>")


def test_body_over_the_cap_is_refused_even_when_gzipped(site: Site) -> None:
    site.gzip = True
    site.put("/big.html", b"a" * 200_000)
    settings = dataclasses.replace(LOOPBACK_OK, max_bytes=100_000)

    with pytest.raises(FetchError, match="larger than 100000 bytes"):
        get(settings, f"{site.base}/big.html")


def test_a_gzip_bomb_is_cut_off_at_the_cap_without_inflating_it(site: Site) -> None:
    bomb = gzip.compress(bytes(200_000_000), compresslevel=9)  # 200 MB of zeros in ~200 kB
    site.put("/bomb.html", bomb, "text/html", headers={"Content-Encoding": "gzip"})
    settings = dataclasses.replace(LOOPBACK_OK, max_bytes=10_000_000)

    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="larger than 10000000 bytes"):
            get(settings, f"{site.base}/bomb.html")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 40_000_000  # the 10 MB cap and its copies, not 200 MB


def test_stacked_content_encodings_are_refused(site: Site) -> None:
    twice = gzip.compress(gzip.compress(b"<rss/>"))
    site.put("/feed.xml", twice, "application/rss+xml", headers={"Content-Encoding": "gzip, gzip"})

    with pytest.raises(FetchError, match="unsupported Content-Encoding 'gzip, gzip'"):
        get(LOOPBACK_OK, f"{site.base}/feed.xml")


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_bodies_are_decoded_with_or_without_the_zlib_header(site: Site, wbits: int) -> None:
    packer = zlib.compressobj(wbits=wbits)
    body = packer.compress(b"<rss>" + b"item " * 1000 + b"</rss>") + packer.flush()
    site.put("/feed.xml", body, "application/rss+xml", headers={"Content-Encoding": "deflate"})

    result = get(LOOPBACK_OK, f"{site.base}/feed.xml")

    assert result.content == b"<rss>" + b"item " * 1000 + b"</rss>"


def test_redirects_are_followed_to_the_final_url(site: Site) -> None:
    site.put("/old", b"", status=301, headers={"Location": "/new"})
    site.put("/new", "<rss/>")

    result = get(LOOPBACK_OK, f"{site.base}/old")

    assert result.url == f"{site.base}/new"
    assert result.content == b"<rss/>"


def test_too_many_redirects_are_refused(site: Site) -> None:
    for hop in range(4):
        site.put(f"/r{hop}", b"", status=302, headers={"Location": f"/r{hop + 1}"})
    site.put("/r4", "<rss/>")
    settings = dataclasses.replace(LOOPBACK_OK, max_redirects=3)

    with pytest.raises(FetchError, match="more than 3 redirects"):
        get(settings, f"{site.base}/r0")


def test_error_status_names_url_and_status(site: Site) -> None:
    with pytest.raises(FetchError, match=r"/missing: HTTP 404$"):
        get(LOOPBACK_OK, f"{site.base}/missing")


def test_refused_connection_is_a_fetch_error(site: Site) -> None:
    port = site.base.rsplit(":", 1)[1]
    site.close()

    with pytest.raises(FetchError, match="cannot connect"):
        get(LOOPBACK_OK, f"http://127.0.0.1:{port}/feed.xml")


def test_only_http_and_https_are_fetched() -> None:
    with pytest.raises(FetchError, match="only http and https"):
        get(LOOPBACK_OK, "file:///etc/passwd")


def test_article_links_to_loopback_are_refused_by_default(site: Site) -> None:
    site.put("/page.html", "<p>hi</p>")

    with pytest.raises(FetchError, match=r"non-public address 127\.0\.0\.1"):
        get(FetchConfig(timeout=5.0), f"{site.base}/page.html", public_only=True)
    assert site.requests() == []


def test_any_loopback_address_is_refused_for_article_links() -> None:
    with pytest.raises(FetchError, match=r"non-public address 127\.0\.0\.2"):
        get(FetchConfig(timeout=5.0), "http://127.0.0.2:9/admin", public_only=True)


def test_link_local_metadata_address_is_refused_for_article_links() -> None:
    with pytest.raises(FetchError, match=r"non-public address 169\.254\.169\.254"):
        get(FetchConfig(timeout=5.0), "http://169.254.169.254/latest/", public_only=True)


def test_allow_private_addresses_lets_article_links_through(site: Site) -> None:
    site.put("/page.html", "<p>hi</p>")

    result = get(LOOPBACK_OK, f"{site.base}/page.html", public_only=True)

    assert result.content == b"<p>hi</p>"


def test_retry_after_seconds_are_kept_on_the_error(site: Site) -> None:
    site.put("/busy.xml", "slow down", "text/plain", status=429, headers={"Retry-After": "120"})

    with pytest.raises(FetchError, match=r"HTTP 429 \(retry after 120s\)") as caught:
        get(LOOPBACK_OK, f"{site.base}/busy.xml")

    assert caught.value.retry_after == 120.0


def test_retry_after_as_an_http_date_is_turned_into_seconds(site: Site) -> None:
    later = email.utils.format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    site.put("/down.xml", "maintenance", "text/plain", status=503, headers={"Retry-After": later})

    with pytest.raises(FetchError) as caught:
        get(LOOPBACK_OK, f"{site.base}/down.xml")

    assert caught.value.retry_after is not None
    assert 3500 <= caught.value.retry_after <= 3600


def test_cache_control_max_age_is_reported(site: Site) -> None:
    site.put("/feed.xml", "<rss/>", headers={"Cache-Control": "public, max-age=600"})

    assert get(LOOPBACK_OK, f"{site.base}/feed.xml").max_age == 600.0


@pytest.mark.parametrize(
    "address",
    [
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.5]",
        "224.0.0.1",
    ],
    ids=["nat64", "6to4", "mapped-loopback", "mapped-private", "multicast"],
)
def test_addresses_that_hide_a_private_one_are_refused(address: str) -> None:
    with pytest.raises(FetchError, match=r"refused: .* resolves to non-public address"):
        get(FetchConfig(timeout=5.0), f"http://{address}:9/admin", public_only=True)


def test_an_article_host_is_connected_to_at_the_address_that_was_checked(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name answers a public address to the check, then a private one."""
    site.put("/story.html", "<p>the public story</p>")
    port = int(site.base.rsplit(":", 1)[1])
    secret = HTTPServer(("127.0.0.3", port), _SecretHandler)
    threading.Thread(target=secret.serve_forever, daemon=True).start()
    answers = iter(["127.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(host: str, *args: Any, **kw: Any) -> Any:
        if host != "news.rebind.test":
            return real(host, *args, **kw)
        address = next(answers, "127.0.0.3")  # first the checked answer, then the internal one
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(fetch, "_public", lambda address: address.is_loopback)  # 127/8 "public"
    try:
        result = get(
            FetchConfig(timeout=5.0), f"http://news.rebind.test:{port}/story.html", public_only=True
        )
    finally:
        secret.shutdown()
        secret.server_close()

    assert result.content == b"<p>the public story</p>"
    assert result.url == f"http://news.rebind.test:{port}/story.html"
    assert site.request_headers[-1]["Host"] == f"news.rebind.test:{port}"


class _SecretHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "15")
        self.end_headers()
        self.wfile.write(b"internal secret")

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_deadline_starts_when_the_request_is_sent_not_while_it_waits_its_turn(
    site: Site,
) -> None:
    for name in ("a", "b", "c"):
        site.put(f"/{name}.html", f"<p>{name}</p>", delay=0.6)
    settings = dataclasses.replace(LOOPBACK_OK, timeout=1.0, per_host=1)

    async def go() -> list[bytes]:
        async with Fetcher(settings) as fetcher:
            pages = [fetcher.get(f"{site.base}/{name}.html") for name in ("a", "b", "c")]
            return [page.content for page in await asyncio.gather(*pages)]

    assert asyncio.run(go()) == [b"<p>a</p>", b"<p>b</p>", b"<p>c</p>"]  # 1.8 s in all


def test_proxy_settings_in_the_environment_are_not_used(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.put("/feed.xml", "<rss/>")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")

    assert get(LOOPBACK_OK, f"{site.base}/feed.xml").content == b"<rss/>"


def test_a_server_trickling_its_body_is_abandoned_at_the_deadline(site: Site) -> None:
    site.put("/slow.xml", "<rss>" + "x" * 100 + "</rss>", trickle=0.5)
    settings = dataclasses.replace(LOOPBACK_OK, timeout=2.0)
    started = time.monotonic()

    with pytest.raises(FetchError, match=r"slow\.xml: timed out after 2s"):
        get(settings, f"{site.base}/slow.xml")

    assert time.monotonic() - started < 10  # the whole trickled body would take 55 s


def test_a_redirect_loop_ends_at_the_redirect_limit(site: Site) -> None:
    site.put("/loop", b"", status=302, headers={"Location": "/loop"})

    with pytest.raises(FetchError, match="more than 5 redirects"):
        get(LOOPBACK_OK, f"{site.base}/loop")
    assert len(site.requests("/loop")) == 6


def test_a_redirect_to_a_file_url_is_refused(site: Site) -> None:
    site.put("/moved", b"", status=301, headers={"Location": "file:///etc/passwd"})

    with pytest.raises(FetchError, match="only http and https URLs are fetched"):
        get(LOOPBACK_OK, f"{site.base}/moved")


def test_a_name_with_one_private_address_among_public_ones_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def answers(host: str, *args: Any, **kw: Any) -> Any:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 80)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", answers)

    with pytest.raises(FetchError, match=r"resolves to non-public address 10\.0\.0\.5"):
        get(FetchConfig(timeout=5.0), "http://mixed.example/story", public_only=True)


def test_response_headers_past_the_size_limit_are_refused(site: Site) -> None:
    site.put("/feed.xml", "<rss/>", headers={"X-Padding": "a" * 200_000})

    with pytest.raises(FetchError, match=r"feed\.xml: "):
        get(LOOPBACK_OK, f"{site.base}/feed.xml")
