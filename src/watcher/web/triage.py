"""Triage from the desk: the forms that mark hits, mute stories and snooze terms (through
app/triage.py), and the signed "not relevant" link digests carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from watcher.app import links, triage
from watcher.config.load import parse_duration
from watcher.errors import ArgumentError
from watcher.web import security
from watcher.web.context import desk_of, hit_id, path_id, render_page


def _back(form: FormData, fallback: str) -> RedirectResponse:
    """Back to the page a triage form was on (a path on this site only), or `fallback`."""
    back = str(form.get("back", ""))
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = fallback
    return RedirectResponse(back, status_code=303)


_VERDICTS: dict[str, triage.Verdict] = {
    "relevant": "relevant",
    "not_relevant": "not_relevant",
    "important": "important",
}


def _verdict(form: FormData) -> triage.Verdict | None:
    """The form's verdict; empty clears it, anything else is an `ArgumentError`."""
    given = str(form.get("verdict", ""))
    if not given:
        return None
    if given not in _VERDICTS:
        raise ArgumentError(f"unknown verdict {given!r} (one of {', '.join(_VERDICTS)})")
    return _VERDICTS[given]


def _duration(text: str, what: str) -> timedelta:
    try:
        return timedelta(seconds=parse_duration(text.strip()))
    except ValueError as exc:
        raise ArgumentError(f"{what}: {exc}") from None


async def read(request: Request) -> Response:
    desk = desk_of(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    number = hit_id(request)
    read = form.get("read", "1") != "0"
    await desk.run(triage.mark_read, desk.store, [number], datetime.now(UTC), read)
    return _back(form, f"/hits/{number}")


async def judge(request: Request) -> Response:
    desk = desk_of(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    number = hit_id(request)
    await desk.run(triage.judge, desk.store, number, _verdict(form), datetime.now(UTC))
    return _back(form, f"/hits/{number}")


async def judge_article(request: Request) -> Response:
    """Judge a stored article for a term, hit or not: a relevant one the term missed counts
    against its recall (the judged page)."""
    desk = desk_of(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    article = path_id(request, "article", "article")
    (term,) = desk.config.select_terms([str(form.get("term", ""))])
    verdict = _verdict(form)
    now = datetime.now(UTC)
    await desk.run(triage.judge_article, desk.store, article, term.name, verdict, now)
    return _back(form, "/search")


def _cluster(request: Request) -> int:
    return path_id(request, "cluster", "story")


async def mute(request: Request) -> Response:
    desk = desk_of(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    cluster = _cluster(request)
    now = datetime.now(UTC)
    span = str(form.get("for", "")).strip()
    until = now + _duration(span, "mute for") if span else None
    await desk.run(triage.mute_story, desk.store, cluster, now, until)
    return _back(form, "/")


async def unmute(request: Request) -> Response:
    desk = desk_of(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    await desk.run(triage.unmute_story, desk.store, _cluster(request), datetime.now(UTC))
    return _back(form, "/")


async def snooze(request: Request) -> Response:
    desk = desk_of(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    (term,) = desk.config.select_terms([str(form.get("term", ""))])
    now = datetime.now(UTC)
    until = now + _duration(str(form.get("for", "1d")), "snooze for")
    await desk.run(triage.snooze_term, desk.store, term.name, until, now)
    return _back(form, "/")


async def wake(request: Request) -> Response:
    desk = desk_of(request)
    form = await security.checked_form(request, read_only=desk.config.web.read_only)
    await desk.run(triage.wake_term, desk.store, str(form.get("term", "")), datetime.now(UTC))
    return _back(form, "/")


async def signed_not_relevant(request: Request) -> Response:
    """A digest's one-click "not relevant" link: the signature is the authority (no login).

    GET shows one button; only its POST marks, so a mail scanner that fetches
    every link of a message marks nothing. The mark is for that hit alone.
    """
    desk = desk_of(request)
    number = hit_id(request)
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
    return render_page(request, "confirm.html.j2", hit=hits[0], signature=signature, done=done)
