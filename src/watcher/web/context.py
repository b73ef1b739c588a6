"""What every page of the desk shares: the `Desk` (store, config, reload), rendering a
page with its session's CSRF token, and reading ids from the path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from watcher.config.load import Config
from watcher.store import Storage
from watcher.web import security
from watcher.web.render import page

P = ParamSpec("P")
T = TypeVar("T")


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
        """`work` on the store's thread, a database error (either backend's) as a `StoreError`."""
        with self.store.translated():
            return await self.store.call(work, *args, **kwargs)


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def render_page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    desk = desk_of(request)
    web = desk.config.web
    values.update(
        csrf=security.csrf_token(request),
        read_only=web.read_only,
        login=web.password_hash is not None,
        path=request.url.path,
    )
    return HTMLResponse(page(name, values), status_code=status)


def path_id(request: Request, name: str, what: str) -> int:
    """The id `name` in the path; 404 "no such `what`" for what no database row can have
    (ids are 64-bit on both backends, and SQLite cannot even bind a larger number)."""
    try:
        number = int(request.path_params[name])
    except ValueError:
        raise HTTPException(404, f"no such {what}") from None
    if not 0 < number < 2**63:
        raise HTTPException(404, f"no such {what}")
    return number


def hit_id(request: Request) -> int:
    return path_id(request, "hit", "hit")


def here(request: Request) -> str:
    """This page, as the triage forms' way back."""
    query = request.url.query
    return request.url.path + ("?" + query if query else "")
