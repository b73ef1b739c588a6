"""The desk under uvicorn: alone (`watcher web`) or beside the service (`watcher run`).

The socket is bound here, so a port in use is a one-line error (uvicorn
would exit the process) and tests can bind port 0. uvicorn runs in the
caller's event loop without its signal handlers: the service (or `watcher
web`) owns SIGTERM, SIGINT and SIGHUP and stops the desk itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace

import uvicorn

from watcher.app import tune
from watcher.app.service import Service
from watcher.config.load import Config, load_config
from watcher.config.web import WebConfig
from watcher.errors import ConfigError, WatcherError
from watcher.store import open_storage
from watcher.web import security
from watcher.web.app import Desk, create_app

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the process's own handlers stay in place: whoever runs us stops us


def with_listen(web: WebConfig, listen: str | None) -> WebConfig:
    """`[web]` with `--listen` in place of its address, checked as the config is."""
    if listen is None:
        return web
    host, colon, port = listen.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"--listen {listen!r} is not host:port (such as 127.0.0.1:8580)")
    derived = web.url == f"http://{web.listen}"  # no [web] url of its own: follows listen
    changed = replace(web, listen=listen, url=f"http://{listen}" if derived else web.url)
    if not changed.loopback and changed.password_hash is None:
        raise ConfigError(
            f"--listen {listen!r} is reachable from other machines: set [web] password_hash"
            " (see docs/web.md) or listen on 127.0.0.1"
        )
    return changed


def bind(web: WebConfig) -> socket.socket:
    """A socket bound to the desk's address; a `WatcherError` naming it when it is taken."""
    host = "127.0.0.1" if web.host == "localhost" else web.host
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, web.port))
    except OSError as exc:
        sock.close()
        raise WatcherError(f"web desk: cannot listen on {web.listen}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


def address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


@asynccontextmanager
async def running(desk: Desk, sock: socket.socket) -> AsyncIterator[str]:
    """Serve the desk on `sock` in this event loop until the block ends; yields its address."""
    web = desk.config.web
    if web.password_hash is not None:
        security.check_hash(web.password_hash)
    app = create_app(desk, session_key=secrets.token_urlsafe(32))
    server = _Server(
        uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]), name="web desk")
    while not server.started and not task.done():
        await asyncio.sleep(0.02)
    if task.done():
        task.result()  # its failure, raised here
        raise WatcherError("web desk: the server stopped at start")
    try:
        yield address(sock)
    finally:
        server.should_exit = True
        await task
        sock.close()


async def serve_desk(
    config: Config, listen: str | None = None, ready: Callable[[str], None] = lambda url: None
) -> None:
    """`watcher web`: the desk alone until SIGTERM or SIGINT (`ready` is told its address);
    a running service is told (SIGHUP) when a term is saved."""
    web = with_listen(config.web, listen)
    sock = bind(web)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    current = [replace(config, web=web)]

    async def reload() -> str:
        current[0] = replace(load_config(config.path), web=web)
        pids = await desk.run(tune.reload_service, desk.store)
        if not pids:
            return "No service is running here: `watcher run` will use it."
        if len(pids) == 1:
            return f"The service (pid {pids[0]}) re-reads the config."
        return f"The services (pids {', '.join(map(str, pids))}) re-read the config."

    async def wake() -> None:  # the service's sender, when a failed digest is retried
        await desk.run(tune.reload_service, desk.store)

    with open_storage(config.database) as store:
        desk = Desk(store, lambda: current[0], reload, wake)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            async with running(desk, sock) as url:
                ready(url)
                await stop.wait()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)


def beside_service(service: Service) -> AbstractAsyncContextManager[None]:
    """The desk inside `watcher run` when `[web] enabled`: its own database connection,
    the service's config, reloads and sender. A port in use costs the desk, not polling."""
    return _beside(service)


@asynccontextmanager
async def _beside(service: Service) -> AsyncIterator[None]:
    web = service.config.web
    if not web.enabled:
        yield
        return
    try:
        sock = bind(web)
        if web.password_hash is not None:
            security.check_hash(web.password_hash)
    except WatcherError as exc:
        log.error("%s; the service runs without the desk", exc)
        yield
        return

    async def reload() -> str:
        await service.reload()
        return "The service re-read the config."

    async def wake() -> None:
        service.digests_waiting.set()

    with open_storage(service.config.database) as store:
        desk = Desk(store, lambda: service.config, reload, wake)
        async with running(desk, sock) as url:
            log.info("web desk at %s", url)
            yield


Companion = Callable[[Service], AbstractAsyncContextManager[None]]
