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
from typing import TYPE_CHECKING

from flask import Response

from api import presenters
from api.context import get_session, state
from api.guards import current_actor
from api.http import etag
from api.i18n import current_language
from schemas.common import encode_cursor
from services.actors import Actor
from services.dossiers.access import find_many
from services.dossiers.glimpse import Glimpse, glimpse
from services.dossiers.table import EDITABLE
from services.errors import NotFound
from services.pagination import Page

if TYPE_CHECKING:
    from services.models import Dossier


def _view(actor: Actor, staff: bool) -> str:
    """Whose answer it is: the applicant's own, or an official's of an agency (their allowed actions)."""
    return f"staff:{actor.role}:{actor.agency_code}" if staff else "own"


def _render(dossier: Dossier, actor: Actor, staff: bool) -> bytes:
    view = presenters.dumped(presenters.dossier(dossier, actor, staff=staff))
    return json.dumps(view, ensure_ascii=False).encode()


def rendered(seen: list[Glimpse], *, staff: bool) -> list[bytes]:
    """Each glimpsed dossier's answer, kept ones as kept, the rest loaded in one statement and rendered."""
    actor, lang, cache = current_actor(), current_language(), state().dossier_views
    view = _view(actor, staff)
    keys = [f"{g.id}:{lang}:{view}" for g in seen]
    revisions = [g.revision() for g in seen]
    bodies: list[bytes | None] = [None if g.bundled else cache.get(key, revision)
                                  for g, key, revision in zip(seen, keys, revisions, strict=True)]
    missing = [g.id for g, body in zip(seen, bodies, strict=True) if body is None]
    if missing:
        loaded = find_many(get_session(), missing, staff=staff)
        for i, g in enumerate(seen):
            if bodies[i] is None and (dossier := loaded.get(g.id)) is not None:
                bodies[i] = body = _render(dossier, actor, staff)
                if not g.bundled and dossier.version == g.version:  # else it moved since the glimpse
                    cache.put(keys[i], revisions[i], body)
    return [body for body in bodies if body is not None]  # a dossier deleted since its glimpse drops out


def page_response(page: Page[Glimpse], *, staff: bool) -> Response:
    items = b",".join(rendered(page.items, staff=staff))
    cursor = json.dumps(encode_cursor(page.next_key)).encode()
    return Response(b'{"items":[' + items + b'],"next_cursor":' + cursor + b"}", 200, mimetype="application/json")


def own_dossier(dossier_id: str, render: Callable[[], Response]) -> Response:
    """The dossier's answer for its applicant from the kept rendering, else `render()`; 404 for anyone who
    may not see it."""
    actor = current_actor()
    seen = glimpse(get_session(), dossier_id)
    if seen is None or not seen.visible_to(actor):
        raise NotFound("dossier not found")
    if seen.applicant_id != actor.user_id or seen.status in EDITABLE:
        return render()
    bodies = rendered([seen], staff=False)
    if not bodies:
        raise NotFound("dossier not found")
    return Response(bodies[0], 200, mimetype="application/json", headers={"ETag": etag(seen.version)})
