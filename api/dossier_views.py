"""Dossier answers from renderings kept per what they show.

A citizen opens their dossier again and again while it waits at the office, and an official their queue
all day; either changes far less often. Each read takes glimpses (services.dossiers.glimpse: one indexed
statement for a dossier or a whole page) and looks each dossier's rendering up by its glimpse's revision
(version, papers, pending payment, catalog, applicant, and the clock's part: overdue, the fee's state).
Only the dossiers whose revision moved are loaded in full (one statement) and rendered again. The key
holds only what the database says now, so several app servers stay right without telling each other
anything.

What is never kept: a dossier of a bundle (its actions follow the bundle's other dossiers), and the
owner's single draft or dossier waiting for papers (its answer lists the caller's wallet).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Response, request

from api import presenters
from api.caching import RenderedCache
from api.context import get_session, state
from api.guards import current_actor
from api.http import etag, page_json
from api.i18n import current_language
from services.actors import Actor
from services.dossiers.access import find_many
from services.dossiers.glimpse import Glimpse, Marks, glimpse, page_marks
from services.dossiers.table import EDITABLE
from services.errors import NotFound
from services.pagination import Page

if TYPE_CHECKING:
    from services.models import Dossier


GLIMPSED = "smartqn.glimpse"  # the WSGI environ's key of a glimpse the edge took (api/edge_reads.py)


def _view(actor: Actor, staff: bool) -> str:
    """Whose answer it is: the applicant's own, or an official's of an agency (their allowed actions)."""
    return f"staff:{actor.role}:{actor.agency_code}" if staff else "own"


def _render(dossier: Dossier, actor: Actor, staff: bool) -> bytes:
    view = presenters.dumped(presenters.dossier(dossier, actor, staff=staff))
    return json.dumps(view, ensure_ascii=False).encode()


def _key(dossier_id: str, lang: str, view: str) -> str:
    return f"{dossier_id}:{lang}:{view}"


def _kept(cache: RenderedCache[bytes], seen: Glimpse, lang: str, view: str,
          now: datetime | None = None) -> bytes | None:
    return None if seen.bundled else cache.get(_key(seen.id, lang, view), seen.revision(now))


def kept_own(cache: RenderedCache[bytes], seen: Glimpse, lang: str) -> bytes | None:
    """The applicant's kept answer for this glimpse, if there is one (the WSGI edge serves it)."""
    return _kept(cache, seen, lang, "own")


def rendered(seen: list[Glimpse], *, staff: bool) -> list[bytes]:
    """Each glimpsed dossier's answer, kept ones as kept, the rest loaded in one statement and rendered."""
    actor, lang, cache = current_actor(), current_language(), state().dossier_views
    view = _view(actor, staff)
    bodies = [_kept(cache, g, lang, view) for g in seen]
    missing = [g.id for g, body in zip(seen, bodies, strict=True) if body is None]
    if missing:
        loaded = find_many(get_session(), missing, staff=staff)
        for i, g in enumerate(seen):
            if bodies[i] is None and (dossier := loaded.get(g.id)) is not None:
                bodies[i] = body = _render(dossier, actor, staff)
                if not g.bundled and dossier.version == g.version:  # else it moved since the glimpse
                    cache.put(_key(g.id, lang, view), g.revision(), body)
    return [body for body in bodies if body is not None]  # a dossier deleted since its glimpse drops out


def kept_page(cache: RenderedCache[bytes], page: Page[Glimpse], lang: str, actor: Actor,
              now: datetime) -> bytes | None:
    """An official's queue page when every dossier on it is kept (the WSGI edge serves it), else None."""
    view, bodies = _view(actor, staff=True), []
    for g in page.items:
        if (body := _kept(cache, g, lang, view, now)) is None:
            return None
        bodies.append(body)
    return page_json(bodies, page.next_key)


def page_key(agency_code: str, query: str, lang: str, actor: Actor) -> str:
    return f"{agency_code}?{query}:{lang}:{_view(actor, staff=True)}"


def kept_by_marks(pages: RenderedCache[tuple[Any, bytes]], key: str, seen: Marks, now: datetime) -> bytes | None:
    """A queue page kept whole, if its marks are the page's now and no due date or payment expiry on it has
    come since it was rendered (the clock's part of its dossiers' answers)."""
    hit = pages.get(key, seen)
    if hit is None:
        return None
    until, body = hit
    return body if until is None or now < until else None


def keep_whole(pages: RenderedCache[tuple[Any, bytes]], key: str, page: Page[Glimpse], body: bytes,
               now: datetime) -> None:
    """Keep a page `kept_page` made at `now`, by its marks, until the first due date or expiry on it."""
    until = min((t for g in page.items if (t := g.until(now)) is not None), default=None)
    pages.put(key, page_marks(page.items, page.next_key is not None), (until, body))


def page_response(page: Page[Glimpse], *, staff: bool) -> Response:
    return Response(page_json(rendered(page.items, staff=staff), page.next_key), 200, mimetype="application/json")


def own_dossier(dossier_id: str, render: Callable[[], Response]) -> Response:
    """The dossier's answer for its applicant from the kept rendering, else `render()`; 404 for anyone who
    may not see it."""
    actor = current_actor()
    seen = request.environ.get(GLIMPSED)  # taken by the WSGI edge a moment ago, when it could not answer
    if not isinstance(seen, Glimpse) or seen.id != dossier_id:
        seen = glimpse(get_session(), dossier_id)
    if seen is None or not seen.visible_to(actor):
        raise NotFound("dossier not found")
    if seen.applicant_id != actor.user_id or seen.status in EDITABLE:
        return render()
    bodies = rendered([seen], staff=False)
    if not bodies:
        raise NotFound("dossier not found")
    return Response(bodies[0], 200, mimetype="application/json", headers={"ETag": etag(seen.version)})
