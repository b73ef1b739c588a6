"""The desk's pages: parse the request, call app/ on the store's thread, render.

Desk (hits by story, filtered), one hit's article in full, search, the term
editor with its live preview, health with the outbox, the digest preview,
and the login form. Triage marks are posted here and kept by app/triage.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from starlette.applications import Starlette
from starlette.datastructures import FormData, QueryParams
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from watcher.app import desk as desk_reads
from watcher.app import links, triage, tune
from watcher.app.search import search as search_articles
from watcher.config.load import Config, parse_duration
from watcher.delivery.digest import render as render_digest
from watcher.delivery.dispatch import Dispatcher
from watcher.errors import ArgumentError, ConfigError, QueryError, StoreError, WatcherError
from watcher.store import Storage
from watcher.store.records import HitQuery
from watcher.web import security
from watcher.web.render import page

P = ParamSpec("P")
T = TypeVar("T")

DESK_LIMIT = 300  # hits on one desk page, newest first
SEARCH_LIMIT = 50
SHOWN = 20  # articles listed under each count of the term editor's preview
STATIC = Path(__file__).parent / "static"


async def _nothing() -> None:
    pass


@dataclass
class Desk:
    """What every page needs: the store, the running config, how to reload it."""

    store: Storage
    settings: Callable[[], Config]  # the config in force (a reload replaces it)
    reload: Callable[[], Awaitable[str]]  # after a term is saved: what happened, in words
    wake_sender: Callable[[], Awaitable[None]] = field(default=_nothing)  # a digest to retry

    @property
    def config(self) -> Config:
        return self.settings()

    async def run(self, work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`work` on the store's thread, an SQLite error as a `StoreError`."""
        with self.store.translated():
            return await self.store.call(work, *args, **kwargs)


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    desk = _desk(request)
    web = desk.config.web
    values.update(
        csrf=security.csrf_token(request),
        read_only=web.read_only,
        login=web.password_hash is not None,
        path=request.url.path,
    )
    return HTMLResponse(page(name, values), status_code=status)


def _moment(text: str | None, field_name: str, end_of_day: bool = False) -> datetime | None:
    """A filter's time: a duration back from now (7d, 36h) or a date or time (ISO 8601)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return datetime.now(UTC) - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ArgumentError(
            f"{field_name} {text!r} is neither a duration (7d, 36h) nor a date (2026-11-01)"
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if end_of_day and len(text) == len("2026-11-30"):
        moment += timedelta(days=1)
    return moment.astimezone(UTC)


def _score(text: str | None) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ArgumentError(f"min score {text!r} is not a number") from None


def hit_query(params: QueryParams) -> HitQuery:
    """The desk's filters as a `HitQuery` (a bad value is an `ArgumentError`)."""
    since = _moment(params.get("since"), "since")
    until = _moment(params.get("until"), "until", end_of_day=True)
    if since and until and since >= until:
        raise ArgumentError("since is not before until")
    read = {"unread": False, "read": True}.get(params.get("read", ""))
    judged: bool | None = None
    verdicts: tuple[str, ...] = ()
    verdict = params.get("verdict", "")
    if verdict == "none":
        judged = False
    elif verdict in triage.VERDICTS:
        verdicts = (verdict,)
    elif verdict:
        raise ArgumentError(f"verdict {verdict!r} is none of {', '.join(triage.VERDICTS)}")
    return HitQuery(
        terms=tuple(name for name in params.getlist("term") if name),
        feeds=tuple(name for name in params.getlist("feed") if name),
        since=since,
        until=until,
        min_score=_score(params.get("min_score")),
        read=read,
        judged=judged,
        verdicts=verdicts,
        sort="found",
        limit=DESK_LIMIT,
    )


def _hit_id(request: Request) -> int:
    try:
        number = int(request.path_params["hit"])
    except ValueError:
        raise HTTPException(404, "no such hit") from None
    if not 0 < number < 2**63:
        raise HTTPException(404, "no such hit")
    return number


# -- pages ---------------------------------------------------------------------


async def desk_page(request: Request) -> Response:
    desk = _desk(request)
    config = desk.config
    query = hit_query(request.query_params)
    found = await desk.run(desk_reads.desk, desk.store, query)
    feeds = await desk.run(desk.store.archive.stored_feeds)
    now = datetime.now(UTC)
    muted = await desk.run(triage.muted_stories, desk.store, now)
    snoozed = {term.term: term for term in await desk.run(triage.snoozed_terms, desk.store, now)}
    terms = list(dict.fromkeys([term.name for term in config.terms]))
    return _page(
        request,
        "desk.html.j2",
        stories=found,
        hits=sum(len(story.hits) for story in found),
        limit=DESK_LIMIT,
        terms=terms,
        feeds=feeds,
        chosen=request.query_params,
        muted=muted,
        muted_ids={story.cluster for story in muted},
        snoozed=snoozed,
        back=_here(request),
    )


async def hit_page(request: Request) -> Response:
    desk = _desk(request)
    number = _hit_id(request)
    marked = await desk.run(desk_reads.marked_article, desk.store, desk.config, hit=number)
    if marked is None:
        raise HTTPException(404, f"no hit {number} in the database")
    return _page(request, "hit.html.j2", shown=marked, hit_id=number, back=_here(request))


async def search_page(request: Request) -> Response:
    desk = _desk(request)
    text = request.query_params.get("q", "").strip()
    results = []
    if text:
        results = await desk.run(
            search_articles,
            desk.store,
            text,
            since=_moment(request.query_params.get("since"), "since"),
            limit=SEARCH_LIMIT,
            aliases=desk.config.aliases,
        )
    return _page(request, "search.html.j2", q=text, results=results, searched=bool(text))


async def tune_page(request: Request) -> Response:
    desk = _desk(request)
    config = desk.config
    name = request.query_params.get("term")
    if not name:
        return _page(request, "tune.html.j2", terms=config.terms, term=None)
    (term,) = config.select_terms([name])
    edited = request.query_params.get("query", term.query)
    preview = await _preview(desk, term.name, term.query, edited)
    title = request.query_params.get("title", "")
    text = request.query_params.get("text", "")
    explanation = None
    if text.strip() and preview.error is None:
        explanation = tune.explain(term.name, edited, title, text, config.aliases)
    return _page(
        request,
        "tune.html.j2",
        terms=config.terms,
        term=term,
        edited=edited,
        preview=preview,
        shown=SHOWN,
        title=title,
        text=text,
        explanation=explanation,
        saved=request.query_params.get("saved"),
    )


async def tune_preview(request: Request) -> Response:
    """The preview alone, for the editor's script to swap in as the query is typed."""
    desk = _desk(request)
    (term,) = desk.config.select_terms([request.query_params.get("term", "")])
    edited = request.query_params.get("query", term.query)
    preview = await _preview(desk, term.name, term.query, edited)
    return _page(request, "preview.html.j2", term=term, preview=preview, shown=SHOWN)


async def _preview(desk: Desk, term: str, saved: str, edited: str) -> tune.TunePreview:
    judged = await desk.run(tune.judged_not_relevant, desk.store, term)
    return await desk.run(
        tune.preview, desk.store, saved, edited, aliases=desk.config.aliases, not_relevant=judged
    )


async def tune_save(request: Request) -> Response:
    desk = _desk(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    name, query = str(form.get("term", "")), str(form.get("query", ""))
    config = desk.config
    config.select_terms([name])
    try:
        await asyncio.to_thread(tune.save, config.path, name, query)
    except ConfigError as exc:
        preview = await _preview(desk, name, config.select_terms([name])[0].query, query)
        return _page(
            request,
            "tune.html.j2",
            400,
            terms=config.terms,
            term=config.select_terms([name])[0],
            edited=query,
            preview=preview,
            shown=SHOWN,
            title="",
            text="",
            explanation=None,
            saved=None,
            error=str(exc),
        )
    outcome = await desk.reload()
    return RedirectResponse(
        request.url_for("tune").include_query_params(term=name, saved=outcome), status_code=303
    )


def _here(request: Request) -> str:
    """This page, as the triage forms' way back."""
    query = request.url.query
    return request.url.path + ("?" + query if query else "")


def _back(form: FormData, fallback: str) -> RedirectResponse:
    """Back to the page a triage form was on (a path on this site only), or `fallback`."""
    back = str(form.get("back", ""))
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = fallback
    return RedirectResponse(back, status_code=303)


def _duration(text: str, what: str) -> timedelta:
    try:
        return timedelta(seconds=parse_duration(text.strip()))
    except ValueError as exc:
        raise ArgumentError(f"{what}: {exc}") from None


async def triage_read(request: Request) -> Response:
    desk = _desk(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    number = _hit_id(request)
    read = form.get("read", "1") != "0"
    await desk.run(triage.mark_read, desk.store, [number], datetime.now(UTC), read)
    return _back(form, f"/hits/{number}")


async def triage_judge(request: Request) -> Response:
    desk = _desk(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    number = _hit_id(request)
    verdict = str(form.get("verdict", "")) or None
    await desk.run(triage.judge, desk.store, number, verdict, datetime.now(UTC))  # type: ignore[arg-type]
    return _back(form, f"/hits/{number}")


def _cluster(request: Request) -> int:
    try:
        return int(request.path_params["cluster"])
    except ValueError:
        raise HTTPException(404, "no such story") from None


async def triage_mute(request: Request) -> Response:
    desk = _desk(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    cluster = _cluster(request)
    now = datetime.now(UTC)
    span = str(form.get("for", "")).strip()
    until = now + _duration(span, "mute for") if span else None
    await desk.run(triage.mute_story, desk.store, cluster, now, until)
    return _back(form, "/")


async def triage_unmute(request: Request) -> Response:
    desk = _desk(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    await desk.run(triage.unmute_story, desk.store, _cluster(request), datetime.now(UTC))
    return _back(form, "/")


async def triage_snooze(request: Request) -> Response:
    desk = _desk(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    (term,) = desk.config.select_terms([str(form.get("term", ""))])
    now = datetime.now(UTC)
    until = now + _duration(str(form.get("for", "1d")), "snooze for")
    await desk.run(triage.snooze_term, desk.store, term.name, until, now)
    return _back(form, "/")


async def triage_wake(request: Request) -> Response:
    desk = _desk(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    await desk.run(triage.wake_term, desk.store, str(form.get("term", "")), datetime.now(UTC))
    return _back(form, "/")


async def signed_not_relevant(request: Request) -> Response:
    """A digest's one-click "not relevant" link: the signature is the authority (no login).

    GET shows one button; only its POST marks, so a mail scanner that fetches
    every link of a message marks nothing. The mark is for that hit alone.
    """
    desk = _desk(request)
    number = _hit_id(request)
    signature = request.query_params.get("sig", "")
    valid = await desk.run(links.verify_link, desk.store, number, links.NOT_RELEVANT, signature)
    if not valid:
        raise HTTPException(403, "this link is not valid (was it copied whole?)")
    hits = await desk.run(desk.store.archive.hits, ids=[number])
    if not hits:
        raise HTTPException(404, f"no hit {number} in the database")
    done = False
    if request.method == "POST":
        await security.checked_form(request, read_only=desk.config.web.read_only)
        await desk.run(triage.judge, desk.store, number, "not_relevant", datetime.now(UTC))
        done = True
    return _page(request, "confirm.html.j2", hit=hits[0], signature=signature, done=done)


async def health_page(request: Request) -> Response:
    desk = _desk(request)
    found = await desk.run(desk_reads.health, desk.store, desk.config, datetime.now(UTC))
    return _page(
        request, "health.html.j2", health=found, retried=request.query_params.get("retried")
    )


async def health_retry(request: Request) -> Response:
    desk = _desk(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    channel = str(form.get("channel", "")) or None
    count = await desk.run(desk_reads.retry_failed, desk.store, datetime.now(UTC), channel)
    await desk.wake_sender()
    return RedirectResponse(
        request.url_for("health").include_query_params(retried=count), status_code=303
    )


async def digest_page(request: Request) -> Response:
    """The digest each channel would get now (`watcher digest preview`): nothing is sent."""
    desk = _desk(request)
    config = desk.config

    def previews() -> list[tuple[str, int, str]]:
        dispatcher = Dispatcher(config, desk.store, fetcher=None)
        shown = []
        for channel in config.channels:
            digest = dispatcher.preview(channel)
            shown.append((channel.name, digest.hits, render_digest(digest).text))
        return shown

    return _page(request, "digest.html.j2", previews=await desk.run(previews))


async def login_page(request: Request) -> Response:
    if request.method == "GET":
        return _page(request, "login.html.j2", failed=False)
    desk = _desk(request)
    form = await security.checked_form(request, read_only=False)
    password_hash = desk.config.web.password_hash
    if password_hash is None:
        return RedirectResponse("/", status_code=303)
    password = str(form.get("password", ""))
    if not await asyncio.to_thread(security.password_ok, password_hash, password):
        await asyncio.sleep(1.0)  # a guesser gets one try a second per connection
        return _page(request, "login.html.j2", 403, failed=True)
    request.session.clear()  # a new session (and CSRF token) once logged in
    request.session["user"] = True
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    await security.checked_form(request, read_only=False)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# -- errors --------------------------------------------------------------------


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _page(request, "error.html.j2", exc.status_code, message=exc.detail)


async def _watcher_error(request: Request, exc: Exception) -> Response:
    status = 400 if isinstance(exc, ArgumentError | ConfigError | QueryError) else 500
    if isinstance(exc, StoreError):
        status = 503
    return _page(request, "error.html.j2", status, message=str(exc))


def create_app(desk: Desk, session_key: str) -> Starlette:
    """The desk as an ASGI app."""
    web = desk.config.web
    routes = [
        Route("/", desk_page, name="desk"),
        Route("/hits/{hit}", hit_page, name="hit"),
        Route("/hits/{hit}/read", triage_read, methods=["POST"], name="read"),
        Route("/hits/{hit}/judge", triage_judge, methods=["POST"], name="judge"),
        Route(
            "/hits/{hit}/" + links.NOT_RELEVANT,
            signed_not_relevant,
            methods=["GET", "POST"],
            name="not_relevant",
        ),
        Route("/stories/{cluster}/mute", triage_mute, methods=["POST"], name="mute"),
        Route("/stories/{cluster}/unmute", triage_unmute, methods=["POST"], name="unmute"),
        Route("/terms/snooze", triage_snooze, methods=["POST"], name="snooze"),
        Route("/terms/wake", triage_wake, methods=["POST"], name="wake"),
        Route("/search", search_page, name="search"),
        Route("/tune", tune_page, name="tune"),
        Route("/tune/preview", tune_preview, name="tune_preview"),
        Route("/tune/save", tune_save, methods=["POST"], name="tune_save"),
        Route("/health", health_page, name="health"),
        Route("/health/retry", health_retry, methods=["POST"], name="health_retry"),
        Route("/digest", digest_page, name="digest"),
        Route("/login", login_page, methods=["GET", "POST"], name="login"),
        Route("/logout", logout, methods=["POST"], name="logout"),
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
        exception_handlers={HTTPException: _http_error, WatcherError: _watcher_error},
    )
    app.state.desk = desk
    return app
