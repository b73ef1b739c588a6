"""The desk's pages: parse the request, call app/ on the store's thread, render.

Desk (hits by story, filtered), one hit's article in full, search, the term
editor with its live preview, health with the outbox, the digest preview,
the login form, and the error pages.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from watcher.app import desk as desk_reads
from watcher.app import judged, triage, tune
from watcher.app.oneshot import fetch_article
from watcher.app.search import search as search_articles
from watcher.config.load import parse_duration
from watcher.delivery.digest import render as render_digest
from watcher.delivery.dispatch import Dispatcher
from watcher.errors import ArgumentError, ConfigError, FetchError, QueryError, StoreError
from watcher.store.records import HitQuery
from watcher.web import security
from watcher.web.context import Desk, desk_of, here, hit_id, render_page

DESK_LIMIT = 300  # hits on one desk page, newest first
SEARCH_LIMIT = 50
SHOWN = 20  # articles listed under each count of the term editor's preview


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
    try:
        if end_of_day and len(text) == len("2026-11-30"):
            moment += timedelta(days=1)
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31 and its day after
        raise ArgumentError(f"{field_name} {text!r} is out of range") from None


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


async def desk_page(request: Request) -> Response:
    desk = desk_of(request)
    config = desk.config
    query = hit_query(request.query_params)
    found = await desk.run(desk_reads.desk, desk.store, query)
    feeds = await desk.run(desk.store.archive.stored_feeds)
    now = datetime.now(UTC)
    muted = await desk.run(triage.muted_stories, desk.store, now)
    snoozed = {term.term: term for term in await desk.run(triage.snoozed_terms, desk.store, now)}
    terms = list(dict.fromkeys([term.name for term in config.terms]))
    return render_page(
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
        back=here(request),
    )


async def hit_page(request: Request) -> Response:
    desk = desk_of(request)
    number = hit_id(request)
    marked = await desk.run(desk_reads.marked_article, desk.store, desk.config, hit=number)
    if marked is None:
        raise HTTPException(404, f"no hit {number} in the database")
    return render_page(request, "hit.html.j2", shown=marked, hit_id=number, back=here(request))


async def search_page(request: Request) -> Response:
    desk = desk_of(request)
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
    terms = [term.name for term in desk.config.terms]
    return render_page(
        request,
        "search.html.j2",
        q=text,
        results=results,
        searched=bool(text),
        terms=terms,
        back=here(request),
        judged=request.query_params.get("judged"),
    )


async def tune_page(request: Request) -> Response:
    desk = desk_of(request)
    config = desk.config
    name = request.query_params.get("term")
    if not name:
        return render_page(request, "tune.html.j2", terms=config.terms, term=None)
    (term,) = config.select_terms([name])
    edited = request.query_params.get("query", term.query)
    preview = await _preview(desk, term.name, term.query, edited)
    title = request.query_params.get("title", "")
    text = request.query_params.get("text", "")
    url = request.query_params.get("url", "").strip()
    explanation = None
    if url and preview.error is None:
        # Fetched and extracted as a poll would, in a thread with its own loop: the
        # extraction's CPU time never holds up the polls of a service serving the desk.
        article = await asyncio.to_thread(asyncio.run, fetch_article(config, url))
        if article.source != "page":
            raise FetchError(f"{url}: {article.note}")
        title, text = article.title, article.text
    if text.strip() and preview.error is None:
        explanation = tune.explain(term.name, edited, title, text, config.aliases)
    return render_page(
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
        url=url,
        saved=request.query_params.get("saved"),
    )


async def tune_preview(request: Request) -> Response:
    """The preview alone, for the editor's script to swap in as the query is typed."""
    desk = desk_of(request)
    (term,) = desk.config.select_terms([request.query_params.get("term", "")])
    edited = request.query_params.get("query", term.query)
    preview = await _preview(desk, term.name, term.query, edited)
    return render_page(request, "preview.html.j2", term=term, preview=preview, shown=SHOWN)


async def _preview(desk: Desk, term: str, saved: str, edited: str) -> tune.TunePreview:
    judged = await desk.run(tune.judged_not_relevant, desk.store, term)
    return await desk.run(
        tune.preview, desk.store, saved, edited, aliases=desk.config.aliases, not_relevant=judged
    )


async def tune_save(request: Request) -> Response:
    desk = desk_of(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    name, query = str(form.get("term", "")), str(form.get("query", ""))
    config = desk.config
    config.select_terms([name])
    try:
        await asyncio.to_thread(tune.save, config.path, name, query)
    except ConfigError as exc:
        preview = await _preview(desk, name, config.select_terms([name])[0].query, query)
        return render_page(
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
            url="",
            saved=None,
            error=str(exc),
        )
    outcome = await desk.reload()
    return RedirectResponse(
        request.url_for("tune").include_query_params(term=name, saved=outcome), status_code=303
    )


async def health_page(request: Request) -> Response:
    desk = desk_of(request)
    found = await desk.run(desk_reads.health, desk.store, desk.config, datetime.now(UTC))
    return render_page(
        request, "health.html.j2", health=found, retried=request.query_params.get("retried")
    )


async def health_retry(request: Request) -> Response:
    desk = desk_of(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    channel = str(form.get("channel", "")) or None
    count = await desk.run(desk_reads.retry_failed, desk.store, datetime.now(UTC), channel)
    await desk.wake_sender()
    return RedirectResponse(
        request.url_for("health").include_query_params(retried=count), status_code=303
    )


async def digest_page(request: Request) -> Response:
    """The digest each channel would get now (`watcher digest preview`): nothing is sent."""
    desk = desk_of(request)
    config = desk.config

    def previews() -> list[tuple[str, int, str]]:
        dispatcher = Dispatcher(config, desk.store, fetcher=None)
        shown = []
        for channel in config.channels:
            digest = dispatcher.preview(channel)
            shown.append((channel.name, digest.hits, render_digest(digest).text))
        return shown

    return render_page(request, "digest.html.j2", previews=await desk.run(previews))


async def judged_page(request: Request) -> Response:
    """Each term's precision and recall from the desk's judgements (`terms eval --judged`)."""
    desk = desk_of(request)
    order = [term.name for term in desk.config.terms]
    scores = await desk.run(judged.judged_scores, desk.store, order)
    return render_page(request, "judged.html.j2", scores=scores)


async def login_page(request: Request) -> Response:
    if request.method == "GET":
        return render_page(request, "login.html.j2", failed=False)
    desk = desk_of(request)
    form = await security.checked_form(request, read_only=False)
    password_hash = desk.config.web.password_hash
    if password_hash is None:
        return RedirectResponse("/", status_code=303)
    password = str(form.get("password", ""))
    if not await asyncio.to_thread(security.password_ok, password_hash, password):
        await asyncio.sleep(1.0)  # a guesser gets one try a second per connection
        return render_page(request, "login.html.j2", 403, failed=True)
    request.session.clear()  # a new session (and CSRF token) once logged in
    request.session["user"] = True
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    await security.checked_form(request, read_only=False)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# -- errors --------------------------------------------------------------------


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return render_page(request, "error.html.j2", exc.status_code, message=exc.detail)


async def watcher_error(request: Request, exc: Exception) -> Response:
    """A `WatcherError` as its one line: the request's fault (400), a page that could not
    be fetched (502), the database (503), anything else (500)."""
    status = 400 if isinstance(exc, ArgumentError | ConfigError | QueryError) else 500
    if isinstance(exc, FetchError):
        status = 502
    if isinstance(exc, StoreError):
        status = 503
    return render_page(request, "error.html.j2", status, message=str(exc))
