"""Fixtures: a real loopback web server, config files and databases in tmp_path."""

from __future__ import annotations

import base64
import email.utils
import gzip
import hashlib
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import Phase, settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SITE = FIXTURES / "site"
# Hypothesis's "explain" phase traces every line of a failing example: a property test
# that failed then ran for over ten minutes. A failure should come back in seconds.
settings.register_profile("watcher", phases=[p for p in Phase if p is not Phase.explain])
settings.load_profile("watcher")

CORPUS = ROOT.parent / "shared" / "corpus"
DEFAULT_CONFIG = ROOT / "config" / "watcher.toml"

CONTENT_TYPES = {
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
}


@dataclass
class Page:
    body: bytes
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to stall before answering (a hanging server)
    trickle: float = 0.0  # seconds between the bytes of the body (a trickling server)


def page_trickle(site: Site, path: str) -> float:
    page = site.pages.get(urlsplit(path).path)
    return page.trickle if page else 0.0


class _QuietServer(ThreadingHTTPServer):
    """Says nothing when a client hangs up mid-answer (a fetcher at its size cap, a closed pool).

    The default prints a traceback to stderr, which a CliRunner test in progress captures.
    """

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Site:
    """A web server on 127.0.0.1 serving chosen bytes, with ETag and Last-Modified.

    Each request is logged as (method, path with query, status), so tests can
    check what was fetched and which answers were 304s.
    """

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.log: list[tuple[str, str, int]] = []
        self.request_headers: list[dict[str, str]] = []
        self.fallback: Page | None = None  # served for any unknown path when set
        self.gzip = False
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site._serve(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def put(
        self, path: str, body: bytes | str, content_type: str | None = None, **kw: object
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        kind = content_type or CONTENT_TYPES.get(Path(path).suffix, "application/octet-stream")
        self.pages[path] = Page(data, kind, **kw)  # type: ignore[arg-type]

    def put_fixture_site(self, root: Path = SITE) -> None:
        """Serve every file under `root` at its relative path, with {base} replaced by our URL."""
        for file in sorted(root.rglob("*")):
            if file.is_file() and file.suffix in CONTENT_TYPES:
                text = file.read_text(encoding="utf-8").replace("{base}", self.base)
                self.put("/" + file.relative_to(root).as_posix(), text)

    def requests(self, prefix: str = "") -> list[tuple[str, int]]:
        with self._lock:
            return [(path, status) for _, path, status in self.log if path.startswith(prefix)]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        page = self.pages.get(path, self.fallback)
        if page is None:
            self._send(handler, 404, b"not found", "text/plain", {})
            return
        if page.delay:
            time.sleep(page.delay)
        etag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
        modified = email.utils.formatdate(1_790_000_000, usegmt=True)
        headers = {"ETag": etag, "Last-Modified": modified, **page.headers}
        if page.status == 200 and handler.headers.get("If-None-Match") == etag:
            self._send(handler, 304, b"", None, headers)
            return
        body = page.body
        if self.gzip and "gzip" in handler.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self._send(handler, page.status, body, page.content_type, headers)

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str],
    ) -> None:
        with self._lock:
            self.log.append(("GET", handler.path, status))
            self.request_headers.append(dict(handler.headers.items()))
        handler.send_response(status)
        if content_type:
            handler.send_header("Content-Type", content_type)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if status != 304 and page_trickle(self, handler.path):
            for index in range(len(body)):
                handler.wfile.write(body[index : index + 1])
                handler.wfile.flush()
                time.sleep(page_trickle(self, handler.path))
        elif status != 304:
            handler.wfile.write(body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    yield server
    server.close()


class LoopbackInternet(httpx.AsyncBaseTransport):
    """The internet, mocked: every host is answered by one loopback `Site` (like /etc/hosts)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self._inner = httpx.AsyncHTTPTransport()
        port = int(site.base.rsplit(":", 1)[1])
        self._port = port

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def default_terms_toml() -> str:
    """The [[terms]] section of the shipped config, so tests exercise the real watch-terms."""
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    return text[text.index("# --- watch-terms ---") :]


def write_config(
    directory: Path,
    feeds: list[tuple[str, str]],
    *,
    interval: str = "15m",
    terms: str | None = None,
    extra: str = "",
    storage: str | None = None,
) -> Path:
    """A config of (name, url) feeds, the shipped terms and a database: `storage` (a
    path or a PostgreSQL URL, as `polled_at` gives) or else `directory`/watcher.db."""
    extra, terms = _join_aliases(extra, terms if terms is not None else default_terms_toml())
    lines = [
        "[storage]",
        storage_line(storage or str(directory / "watcher.db")),
        "[fetch]",
        'timeout = "10s"',
        "allow_private_addresses = true",
        "[poll]",
        f'interval = "{interval}"',
        "adaptive = false",  # tests choose their intervals; adaptive polling has its own tests
        extra,
    ]
    for name, url in feeds:
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"']
    path = directory / "watcher.toml"
    path.write_text("\n".join(lines) + "\n" + terms)
    return path


def storage_line(where: str) -> str:
    """The `[storage]` line for a database: `url` for PostgreSQL, `path` for a file."""
    return f'url = "{where}"' if "://" in where else f'path = "{where}"'


def _join_aliases(extra: str, terms: str) -> tuple[str, str]:
    """TOML allows one [aliases] table: a test's own aliases (in `extra`) join the
    shipped ones, which stand with the terms that use them."""
    if "[aliases]\n" not in extra or "[aliases]\n" not in terms:
        return extra, terms
    before, _, own = extra.partition("[aliases]\n")
    return before, terms.replace("[aliases]\n", "[aliases]\n" + own.rstrip("\n") + "\n", 1)


@pytest.fixture
def fixture_site(site: Site) -> Site:
    site.put_fixture_site()
    return site


@pytest.fixture
def site_config(tmp_path: Path, fixture_site: Site) -> Path:
    return write_config(
        tmp_path,
        [
            ("Coastline Daily", f"{fixture_site.base}/news.rss"),
            ("Eastern Ledger", f"{fixture_site.base}/world.atom"),
            ("Harbour Wire", f"{fixture_site.base}/briefs.json"),
        ],
    )


@pytest.fixture(scope="session")
def polled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database the real pipeline filled from the fixture site (copied by each test)."""
    folder = tmp_path_factory.mktemp("polled")
    site = Site()
    site.put_fixture_site()
    try:
        config = write_config(
            folder,
            [
                ("Coastline Daily", f"{site.base}/news.rss"),
                ("Eastern Ledger", f"{site.base}/world.atom"),
                ("Harbour Wire", f"{site.base}/briefs.json"),
            ],
        )
        from click.testing import CliRunner

        from watcher.cli import cli

        result = CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"])
        assert result.exit_code == 0, result.output
    finally:
        site.close()
    return folder / "watcher.db"


# --- PostgreSQL: a real server in a temporary folder (tests/pgserver.py) ------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """One PostgreSQL server for the session; skips the test where none can be had."""
    from pgserver import PostgresServer, Unavailable

    try:
        server = PostgresServer()
    except Unavailable as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")
    try:
        yield server.start()
    finally:
        server.close()


@pytest.fixture
def postgres_url(postgres_server: Any) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    url, name = postgres_server.create_database()
    yield url
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def storage_at(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh store is, on each backend in turn: an SQLite file's path or a fresh
    PostgreSQL database's URL (open it with `watcher.store.open_storage`)."""
    if request.param == "sqlite":
        return str(tmp_path / "watcher.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
def polled_template(polled: Path, postgres_server: Any) -> str:
    """`polled` copied once into a PostgreSQL database that `polled_at` clones."""
    from watcher.store.copy import copy_database

    url, name = postgres_server.create_database()
    copy_database(str(polled), url, datetime.now(UTC))
    return name


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def polled_at(request: pytest.FixtureRequest, tmp_path: Path, polled: Path) -> Iterator[str]:
    """The fixture site's polled database, the test's own copy, on each backend in turn:
    the path of tmp_path/watcher.db, or the URL of a PostgreSQL database cloned from it
    (the same rows and ids). Write it into a config with `storage_line`."""
    if request.param == "sqlite":
        shutil.copy(polled, tmp_path / "watcher.db")
        yield str(tmp_path / "watcher.db")
        return
    server = request.getfixturevalue("postgres_server")
    url, name = server.create_database(template=request.getfixturevalue("polled_template"))
    yield url
    server.drop_database(name)


@pytest.fixture
def storage(storage_at: str) -> Iterator[Any]:
    """A fresh store on each backend in turn (SQLite, then PostgreSQL: slow), closed after."""
    from watcher.store import open_storage

    store = open_storage(storage_at)
    try:
        yield store
    finally:
        store.close()


# --- delivery peers: a real SMTP server and a real webhook receiver ------------------------


@dataclass
class Received:
    """One SMTP transaction as the server saw it."""

    sender: str
    recipients: list[str]
    data: bytes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """An aiosmtpd SMTP server on 127.0.0.1 that keeps every message it accepts."""

    def __init__(self, password: str | None = None) -> None:
        """With `password`, the server requires AUTH (over plain SMTP: loopback only)."""
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.messages: list[Received] = []
        self.logins: list[tuple[str, str]] = []
        self.refuse = 0  # answer this many DATA commands with 451 before accepting
        box = self

        class Handler:
            async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
                if box.refuse:
                    box.refuse -= 1
                    return "451 4.3.0 try again later"
                box.messages.append(
                    Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
                )
                return "250 OK"

        def authenticate(
            server: object, session: object, envelope: object, mechanism: str, data: Any
        ) -> AuthResult:
            if not isinstance(data, LoginPassword):
                return AuthResult(success=False, handled=False)
            login, secret = data.login.decode(), data.password.decode()
            box.logins.append((login, secret))
            return AuthResult(success=secret == password, handled=False)

        auth: dict[str, Any] = {}
        if password is not None:
            auth = {
                "authenticator": authenticate,
                "auth_require_tls": False,  # loopback only
                "auth_exclude_mechanism": ["LOGIN"],  # PLAIN: one round trip, one answer
            }
        self.port = free_port()  # aiosmtpd's readiness check cannot use port 0
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **auth)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    yield box
    box.close()


@dataclass
class Posted:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver on 127.0.0.1: records each POST, answers with chosen statuses.

    `statuses` is consumed one per request (then 200); `on_post`, when set, runs
    before the answer (a test kills the sender there).
    """

    def __init__(self) -> None:
        self.posts: list[Posted] = []
        self.statuses: list[int] = []
        self.on_post: Callable[[], None] | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.posts.append(Posted({k.lower(): v for k, v in self.headers.items()}, body))
                if receiver.on_post is not None:
                    receiver.on_post()
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/watcher"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


# --- helpers shared by the delivery and service tests ---------------------------------------


# A webhook signing key in the Standard Webhooks format (tests set it as TEST_WEBHOOK_SECRET).
SECRET = "whsec_" + base64.b64encode(b"a test key of twenty-four").decode()


def channel_config(tmp_path: Path, polled: Path | str, channels: str, delivery: str = "") -> Path:
    """A config whose database already holds the fixture site's five hits: a copy of
    `polled` made here, or the database `polled_at` made (a path or a URL)."""
    if isinstance(polled, Path):
        shutil.copy(polled, tmp_path / "watcher.db")
    storage = polled if isinstance(polled, str) else None
    extra = "[delivery]\n" + (delivery or 'retry_base = "1s"\nretry_max = "2s"') + "\n"
    config = write_config(
        tmp_path,
        [("Coastline Daily", "https://coast.example/rss")],
        extra=extra,
        storage=storage,
    )
    with config.open("a") as file:
        file.write("\n" + channels)
    return config


def email_channel(mailbox: Mailbox, **more: str) -> str:
    lines = [
        "[[channels]]",
        'name = "desk"',
        'type = "email"',
        'host = "127.0.0.1"',
        f"port = {mailbox.port}",
        'security = "none"',
        'from = "watcher@newsroom.example"',
        'to = ["desk@newsroom.example", "editor@newsroom.example"]',
        *(f"{key} = {value}" for key, value in more.items()),
    ]
    return "\n".join(lines) + "\n"


def webhook_channel(receiver: Receiver, **more: str) -> str:
    lines = [
        "[[channels]]",
        'name = "hook"',
        'type = "webhook"',
        f'url = "{receiver.url}"',
        'secret = "env:TEST_WEBHOOK_SECRET"',
        'headers = { X-Team = "desk" }',
        *(f"{key} = {value}" for key, value in more.items()),
    ]
    return "\n".join(lines) + "\n"


def wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def hit_count(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM hits").fetchone()[0])
    except sqlite3.Error:
        return 0


def start_service(config: Path) -> subprocess.Popen[str]:
    """`watcher run` on `config` in a process of its own, its output kept for `stop`."""
    return subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "-v", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"service did not stop within 20s after SIGTERM:\n{output}")
    return process.returncode, output


@pytest.fixture(autouse=True)
def _repo_state_untouched() -> Iterator[None]:
    """No test may write the checkout's own state/ (where `watcher run` keeps its database)."""
    state = ROOT / "state"

    def files() -> dict[str, int]:
        items = state.iterdir() if state.is_dir() else iter(())
        return {item.name: item.stat().st_mtime_ns for item in items}

    before = files()
    yield
    assert files() == before, f"the test wrote {state}: give its config a [storage] in tmp_path"


# --- the slow marker means what it says ----------------------------------------------------
# `pytest -m "not slow"` (`make check`) is the quick loop, so a test that starts a server, a
# subprocess, worker processes or the scheduler must be marked slow. Two checks keep it so:
# collection refuses an unmarked test that asks for a server fixture, and an unmarked test
# that listens on a socket, starts a process or starts a scheduler fails at its teardown.

SERVER_FIXTURES = frozenset(
    {
        "site",
        "fixture_site",
        "site_config",
        "polled",
        "mailbox",
        "receiver",
        "postgres_server",
        "postgres_url",
        "polled_template",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    unmarked = [
        f"{item.nodeid} (uses {', '.join(sorted(SERVER_FIXTURES & set(item.fixturenames)))})"
        for item in items
        if item.get_closest_marker("slow") is None
        and SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests that start servers must be marked @pytest.mark.slow:\n  " + "\n  ".join(unmarked)
        )


_unmarked_test: list[str] = []  # the running test's id while it runs unmarked
_started: list[str] = []  # what it started anyway


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    _started.clear()
    if item.get_closest_marker("slow") is None:
        _unmarked_test.append(item.nodeid)
    try:
        yield
    finally:
        _unmarked_test.clear()


def _guarded(original: Callable[..., Any], what: str) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if _unmarked_test and what not in _started:
            _started.append(what)
        return original(*args, **kwargs)

    return guarded


def _guard_slow_starts() -> None:
    import multiprocessing.process

    from apscheduler.schedulers.base import BaseScheduler

    socket.socket.listen = _guarded(socket.socket.listen, "a server")  # type: ignore[method-assign]
    subprocess.Popen.__init__ = _guarded(subprocess.Popen.__init__, "a subprocess")  # type: ignore[method-assign]
    process = multiprocessing.process.BaseProcess
    process.start = _guarded(process.start, "worker processes")  # type: ignore[method-assign]
    BaseScheduler.start = _guarded(BaseScheduler.start, "the scheduler")  # type: ignore[method-assign]


_guard_slow_starts()


@pytest.fixture(autouse=True)
def _slow_marker_kept() -> Iterator[None]:
    """Fails an unmarked test, once it has run, if it started a server, a subprocess, worker
    processes or the scheduler."""
    yield
    if _unmarked_test and _started:
        pytest.fail(f"this test starts {' and '.join(_started)}: mark it @pytest.mark.slow")
