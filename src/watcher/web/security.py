"""Who may use the desk and how a write is vouched for.

- On 127.0.0.1 without a password, anyone on this machine may; a request
  whose Host is not this machine's name is refused (a web page that rebinds
  its DNS name to 127.0.0.1 gets nothing).
- With `[web] password_hash` (argon2; required off loopback) every page but
  the login form and the signed digest links asks for a login; the session
  is a signed cookie, HttpOnly, SameSite=Lax, Secure when `[web] url` is https.
- Every form carries the session's CSRF token; a POST without it is refused
  (403), as is every write in read-only mode.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watcher.errors import ConfigError

SESSION_COOKIE = "watcher_desk"
SESSION_DAYS = 7
OPEN_PATHS = ("/login", "/static/")  # served without a login
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of `password` for `[web] password_hash`."""
    return _HASHER.hash(password)


def check_hash(password_hash: str) -> None:
    """Refuse, at start, a `password_hash` this desk cannot verify."""
    if not password_hash.startswith("$argon2"):
        raise ConfigError(
            "[web] password_hash: not an argon2 hash (make one with `watcher web hash-password`)"
        )


def password_ok(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def signed_link(path: str) -> bool:
    """GET and POST /hits/{id}/not-relevant carry their own authority: the signature."""
    parts = path.strip("/").split("/")
    return len(parts) == 3 and parts[0] == "hits" and parts[2] == "not-relevant"


async def checked_form(request: Request, *, read_only: bool) -> FormData:
    """The posted form, once its CSRF token matches the session's; 403 otherwise or when
    the desk is read-only."""
    if read_only:
        raise HTTPException(403, "this desk is read-only")
    form = await request.form()
    given = form.get("csrf")
    expected = request.session.get("csrf")
    if not (
        isinstance(given, str)
        and isinstance(expected, str)
        and hmac.compare_digest(given.encode(), expected.encode())
    ):
        raise HTTPException(403, "the form's CSRF token is missing or stale: reload the page")
    return form


class Guard:
    """Asks for the login before any page but the open ones, when a password is set.

    Sits inside the session middleware (it reads `scope["session"]`).
    """

    def __init__(self, app: ASGIApp, password: Callable[[], str | None]) -> None:
        self.app = app
        self.password = password

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.password() is None:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        open_path = path == "/login" or path.startswith("/static/") or signed_link(path)
        if open_path or scope.get("session", {}).get("user"):
            await self.app(scope, receive, send)
            return
        response: Response
        if scope["method"] in ("GET", "HEAD"):
            response = RedirectResponse("/login", status_code=303)
        else:
            response = PlainTextResponse("log in first", status_code=403)
        await response(scope, receive, send)


class Headers:
    """Security headers on every answer: no framing, no scripts but ours, no referrer
    (a signed link in a URL stays on this site)."""

    POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"content-security-policy", self.POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
