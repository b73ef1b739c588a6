"""The desk as an ASGI app: its routes and the middleware that guards them
(security.py): headers, the Host check on loopback, the session, the login."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from watcher.app import links
from watcher.errors import WatcherError
from watcher.web import pages, security, triage
from watcher.web.context import Desk

__all__ = ["Desk", "create_app"]

STATIC = Path(__file__).parent / "static"


def create_app(desk: Desk, session_key: str) -> Starlette:
    """The desk as an ASGI app."""
    web = desk.config.web
    routes = [
        Route("/", pages.desk_page, name="desk"),
        Route("/hits/{hit}", pages.hit_page, name="hit"),
        Route("/hits/{hit}/read", triage.read, methods=["POST"], name="read"),
        Route("/hits/{hit}/judge", triage.judge, methods=["POST"], name="judge"),
        Route(
            "/hits/{hit}/" + links.NOT_RELEVANT,
            triage.signed_not_relevant,
            methods=["GET", "POST"],
            name="not_relevant",
        ),
        Route(
            "/articles/{article}/judge",
            triage.judge_article,
            methods=["POST"],
            name="judge_article",
        ),
        Route("/stories/{cluster}/mute", triage.mute, methods=["POST"], name="mute"),
        Route("/stories/{cluster}/unmute", triage.unmute, methods=["POST"], name="unmute"),
        Route("/terms/snooze", triage.snooze, methods=["POST"], name="snooze"),
        Route("/terms/wake", triage.wake, methods=["POST"], name="wake"),
        Route("/search", pages.search_page, name="search"),
        Route("/tune", pages.tune_page, name="tune"),
        Route("/tune/preview", pages.tune_preview, name="tune_preview"),
        Route("/tune/save", pages.tune_save, methods=["POST"], name="tune_save"),
        Route("/health", pages.health_page, name="health"),
        Route("/health/retry", pages.health_retry, methods=["POST"], name="health_retry"),
        Route("/digest", pages.digest_page, name="digest"),
        Route("/judged", pages.judged_page, name="judged"),
        Route("/login", pages.login_page, methods=["GET", "POST"], name="login"),
        Route("/logout", pages.logout, methods=["POST"], name="logout"),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(security.Headers),
        Middleware(
            SessionMiddleware,
            secret_key=session_key,
            session_cookie=security.SESSION_COOKIE,
            max_age=security.SESSION_DAYS * 86400,
            same_site="lax",
            https_only=web.url.startswith("https://"),
        ),
        Middleware(security.Guard, password=lambda: desk.config.web.password_hash),
    ]
    if web.loopback and web.password_hash is None:
        # Without a password, only this machine's own names: a page elsewhere that points
        # its DNS name at 127.0.0.1 (DNS rebinding) is refused.
        middleware.insert(
            0,
            Middleware(
                TrustedHostMiddleware,
                allowed_hosts=["127.0.0.1", "localhost", "::1", "[::1]", web.host],
            ),
        )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: pages.http_error, WatcherError: pages.watcher_error},
    )
    app.state.desk = desk
    return app
