"""The app's one state object (the runtime plus the HTTP layer's caches) and its accessors for views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, current_app, request

from api.caching import RenderedCache, RevisionCache
from services.calendar import WorkingCalendar
from services.db import autocommit_reads
from services.people.eid import JwksCache
from services.runtime import Runtime
from services.settings import Settings
from services.storage import Storage

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

KEY = "smartqn"


@dataclass(eq=False)
class AppState:
    runtime: Runtime
    catalog_cache: RenderedCache[tuple[str, bytes]]  # (the route, the body)
    catalog_revision: RevisionCache
    # The public map's rendered pins per (language, cell): a whole province's cells fit.
    map_cells: RenderedCache[Any] = field(default_factory=lambda: RenderedCache(20_000))
    # Whole map answers by what they show (a few hundred KB each: a few dozen kept).
    map_answers: RenderedCache[Any] = field(default_factory=lambda: RenderedCache(32))
    # The cell revisions last read per box's cells, for `map_revision_ttl` seconds.
    map_revisions: RenderedCache[Any] = field(default_factory=lambda: RenderedCache(1024))
    # Citizens' own dossier answers by what they show (services.dossiers.glimpse): a few KB each.
    dossier_views: RenderedCache[bytes] = field(default_factory=lambda: RenderedCache(5_000))
    # The queue's and the inbox's query strings Flask has parsed, with their arguments, for the WSGI edge
    # (api/edge_reads.py).
    queue_queries: RenderedCache[dict[str, Any]] = field(default_factory=lambda: RenderedCache(2_000))
    inbox_queries: RenderedCache[dict[str, Any]] = field(default_factory=lambda: RenderedCache(2_000))
    # Officials' queue pages per agency, query and language, by their marks (api/dossier_views.py): until
    # when each holds, and its body (twenty dossiers: about 50 KB, so a few hundred: ~13 MB a worker).
    queue_pages: RenderedCache[tuple[Any, bytes]] = field(default_factory=lambda: RenderedCache(256))
    # Each notification's rendering per language, by its row as read (api/notice_views.py): under 1 KB each.
    notice_views: RenderedCache[bytes] = field(default_factory=lambda: RenderedCache(20_000))
    limiter: Any = None
    push_worker: Any = None


def state_of(app: Flask) -> AppState:
    state: AppState = app.extensions[KEY]
    return state


def state() -> AppState:
    return state_of(current_app)


def runtime() -> Runtime:
    return state().runtime


def get_session() -> Session:
    """The request's session (removed when the request ends)."""
    return state().runtime.session()


F = TypeVar("F", bound=Callable[..., Any])


def read_only(view: F) -> F:
    """A view that only reads: its statements run outside a transaction (services.db.autocommit_reads), so
    a read of one statement costs one round trip to the database instead of three."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        autocommit_reads(get_session())
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def remember_query(cache: RenderedCache[dict[str, Any]], args: dict[str, Any]) -> None:
    """What this request's query string parsed to, so the WSGI edge can answer it again unparsed."""
    cache.put(request.query_string.decode("latin-1"), 0, args)


def settings() -> Settings:
    return state().runtime.settings


def jwks() -> JwksCache:
    return state().runtime.jwks


def calendar() -> WorkingCalendar:
    return state().runtime.calendar


def storage() -> Storage:
    return state().runtime.storage
