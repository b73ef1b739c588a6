"""The one HTTP client: every byte watcher reads from or posts to the web goes through here.

It does conditional GETs (ETag / Last-Modified), follows at most
`max_redirects` redirects itself so each hop is checked, caps the body after
decompression, bounds the whole request by one deadline, limits requests in
flight overall and per host, and refuses article links that point into
private networks unless `allow_private_addresses` is on.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import ipaddress
import socket
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from watcher.errors import FetchError
from watcher.models import FetchResult
from watcher.ops.text import describe
from watcher.sources.hosts import HostLimits
from watcher.sources.settings import FetchConfig

_REDIRECTS = {301, 302, 303, 307, 308}
# Longer URLs are refused before httpx sees them (it raises InvalidURL past 65,536);
# servers commonly stop at 8 kB, and a link this long is an attack or a mistake.
MAX_URL_CHARS = 8192
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")


class Fetcher:
    """An async HTTP client shared by every poll of one process."""

    def __init__(
        self, settings: FetchConfig, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        """`transport` replaces the network (tests route every host to a loopback server)."""
        self.settings = settings
        self._client = httpx.AsyncClient(
            transport=transport,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would resolve names past our checks
            limits=httpx.Limits(
                max_connections=settings.concurrency,
                max_keepalive_connections=settings.concurrency,
            ),
        )
        self._overall = asyncio.Semaphore(settings.concurrency)
        self._hosts = HostLimits(settings.per_host)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "*/*",
        public_only: bool = False,
    ) -> FetchResult:
        """GET `url`; return a 200 with its body or a 304; raise `FetchError` for anything else.

        `public_only` refuses hosts that resolve to loopback, private, link-local
        or multicast addresses (article links come from strangers' feeds).
        """
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        check = public_only and not self.settings.allow_private_addresses
        return await self._follow(url, headers, check)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST `body` (a webhook delivery); return the 2xx status or raise `FetchError`.

        Redirects are not followed: a receiver that moved must be reconfigured,
        not guessed at. The response body is not read.
        """
        host = _checked_host(url)
        try:
            async with asyncio.timeout(self.settings.timeout), self._hosts.hold(host):
                with _translated(url, self.settings.timeout):
                    async with self._client.stream(
                        "POST", url, content=body, headers=headers
                    ) as reply:
                        status, answer = reply.status_code, reply.headers
        except TimeoutError:
            raise FetchError(f"{url}: timed out after {self.settings.timeout:g}s") from None
        if not 200 <= status < 300:
            wait = _retry_after(answer.get("retry-after"))
            asked = f" (retry after {wait:g}s)" if wait is not None else ""
            raise FetchError(f"{url}: HTTP {status}{asked}", retry_after=wait)
        return status

    async def _follow(self, url: str, headers: dict[str, str], check: bool) -> FetchResult:
        """GET with each redirect checked; one deadline from the first byte sent.

        The deadline starts once a connection slot is ours: time spent queued
        behind a busy host is not the server's slowness.
        """
        current = url
        deadline: float | None = None
        timeout = self.settings.timeout
        try:
            for _ in range(self.settings.max_redirects + 1):
                host = _checked_host(current)
                target, extra = current, dict[str, str]()
                if check:
                    async with asyncio.timeout(timeout):
                        address = await _public_address(current, host)
                    with _translated(current, timeout):
                        target, extra = _pinned(current, host, address)
                # Wait for the host first, so a busy host never holds overall slots idle.
                async with self._hosts.hold(host), self._overall:
                    deadline = deadline or asyncio.get_running_loop().time() + timeout
                    async with asyncio.timeout_at(deadline):
                        response = await self._request(target, {**headers, **extra}, host)
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                return _result(current, response)
        except TimeoutError:
            raise FetchError(f"{url}: timed out after {timeout:g}s") from None
        raise FetchError(f"{url}: more than {self.settings.max_redirects} redirects")

    async def _request(self, url: str, headers: dict[str, str], host: str) -> _Response:
        """One GET of `url`, which may name the host by a checked address (see `_pinned`)."""
        extensions = {"sni_hostname": host} if url.startswith("https:") else {}
        with _translated(url, self.settings.timeout):
            async with self._client.stream(
                "GET", url, headers=headers, extensions=extensions
            ) as response:
                body = bytearray()
                if response.status_code == 200:
                    inflater = _Inflater(url, response.headers.get("content-encoding", ""))
                    async for chunk in response.aiter_raw():
                        inflater.inflate(chunk, body, self.settings.max_bytes)
                    inflater.finish(body, self.settings.max_bytes)
                return _Response(response.status_code, response.headers, bytes(body))


class _Inflater:
    """Decompresses a body into a capped buffer, never producing more than the cap allows.

    httpx inflates each network chunk whole before we could count it: 64 kB of
    gzip can hold 64 MB, and a body encoded "gzip, gzip" 400 MB in 800 bytes.
    Here each step asks zlib for at most the room left, so memory stays within
    the cap. One encoding only (we ask for gzip or deflate); stacked ones are refused.
    """

    def __init__(self, url: str, encoding: str) -> None:
        self.url = url
        self._zlib: zlib._Decompress | None = None
        self._raw_deflate = False
        name = encoding.strip().lower()
        if name in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "deflate":
            self._zlib = zlib.decompressobj()
            self._raw_deflate = True  # some servers send raw deflate: tried if zlib's fails
        elif name not in ("", "identity"):
            raise FetchError(f"{url}: unsupported Content-Encoding {encoding!r}")

    def inflate(self, chunk: bytes, body: bytearray, cap: int) -> None:
        if self._zlib is None:
            body += chunk
        else:
            pending = chunk
            while pending:
                try:
                    body += self._zlib.decompress(pending, cap - len(body) + 1)
                except zlib.error as exc:
                    if not (self._raw_deflate and not body):
                        raise FetchError(f"{self.url}: cannot decode response: {exc}") from None
                    self._zlib, self._raw_deflate = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                self._raw_deflate = False
                pending = self._zlib.unconsumed_tail
                self._check(body, cap)
        self._check(body, cap)

    def finish(self, body: bytearray, cap: int) -> None:
        if self._zlib is not None:
            body += self._zlib.flush()
            self._check(body, cap)

    def _check(self, body: bytearray, cap: int) -> None:
        if len(body) > cap:
            raise FetchError(f"{self.url}: response larger than {cap} bytes")


@contextlib.contextmanager
def _translated(url: str, timeout: float) -> Iterator[None]:
    """httpx's exceptions as one-line `FetchError`s that name the URL."""
    try:
        yield
    except httpx.ConnectTimeout:
        raise FetchError(f"{url}: cannot connect: timed out", network=True) from None
    except httpx.TimeoutException:
        raise FetchError(f"{url}: timed out after {timeout:g}s") from None
    except httpx.ConnectError as exc:
        raise FetchError(f"{url}: cannot connect: {describe(exc)}", network=True) from None
    except httpx.DecodingError as exc:
        raise FetchError(f"{url}: cannot decode response: {describe(exc)}") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {describe(exc)}") from None
    except httpx.InvalidURL as exc:  # not an HTTPError: httpx raises it before any request
        raise FetchError(f"{url[:200]}: malformed URL: {describe(exc)}") from None


class _Response:
    """The parts of an httpx response we keep once the stream is closed."""

    def __init__(self, status_code: int, headers: httpx.Headers, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content


def _result(url: str, response: _Response) -> FetchResult:
    if response.status_code not in (200, 304):
        wait = _retry_after(response.headers.get("retry-after"))
        asked = f" (retry after {wait:g}s)" if wait is not None else ""
        raise FetchError(f"{url}: HTTP {response.status_code}{asked}", retry_after=wait)
    return FetchResult(
        url=url,
        status=response.status_code,
        content=response.content,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        content_type=response.headers.get("content-type"),
        max_age=_max_age(response.headers.get("cache-control")),
    )


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _max_age(value: str | None) -> float | None:
    """The max-age of a Cache-Control header, in seconds."""
    for part in (value or "").split(","):
        key, _, number = part.strip().partition("=")
        if key.lower() == "max-age" and number.strip().isdigit():
            return float(number)
    return None


def _checked_host(url: str) -> str:
    if len(url) > MAX_URL_CHARS:
        raise FetchError(f"{url[:80]}…: URL longer than {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise FetchError(f"{url}: malformed URL") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"{url}: only http and https URLs are fetched")
    if not parts.hostname:
        raise FetchError(f"{url}: URL has no host")
    return parts.hostname


async def _public_address(url: str, host: str) -> str:
    """The address to connect to for `host`: raise unless every address it has is public."""
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            message = f"{url}: cannot resolve {host}: {describe(exc)}"
            raise FetchError(message, network=True) from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    for address in addresses:
        if not _public(address):
            raise FetchError(
                f"{url}: refused: {host} resolves to non-public address {address}"
                " (set [fetch] allow_private_addresses = true to allow)"
            )
    return str(addresses[0])


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is on the public internet (not loopback, private, link-local...).

    IPv6 forms that carry an IPv4 address (NAT64 64:ff9b::/96, 6to4 2002::/16,
    mapped ::ffff:0:0/96, compatible ::/96) are judged by that IPv4 address.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and (address in _NAT64 or address in _COMPATIBLE):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return _public(embedded)
    return address.is_global and not address.is_multicast


def _pinned(url: str, host: str, address: str) -> tuple[str, dict[str, str]]:
    """`url` with its host replaced by the checked address, and the Host header to send.

    Connecting to the name would make httpx resolve it again, and a second
    answer (DNS rebinding) could point into the private network after the
    check. TLS still verifies the certificate against the name (SNI, see
    `_request`).
    """
    parsed = httpx.URL(url)
    if parsed.host == address:
        return url, {}
    netloc = parsed.netloc.decode("ascii")  # the host (IDNA-encoded) and any port
    return str(parsed.copy_with(host=address)), {"Host": netloc}
