"""A citizen's own dossier, answered from a rendering kept per what it shows.

The applicant opens their dossier again and again while it waits at the office. Each read takes one
indexed glimpse (services.dossiers.glimpse: version, papers, pending payment, catalog revision) and the
clock's part (overdue, the fee's state); an answer rendered for the same glimpse, language and clock
part is sent as it was, with no full load and no rendering. Anything else (another caller, a draft or
a dossier waiting for papers, whose answer lists the caller's wallet, a dossier of a bundle, whose
actions follow the bundle) takes the full path. The key holds only what the database says now, so
several app servers stay right without telling each other anything.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response

from api.context import get_session, state
from api.guards import current_actor
from api.http import etag
from api.i18n import current_language
from services.dossiers.glimpse import glimpse
from services.dossiers.table import EDITABLE
from services.errors import NotFound


def own_dossier(dossier_id: str, render: Callable[[], Response]) -> Response:
    """The dossier's answer for its applicant from the kept rendering, else `render()` (kept when it is
    the owner's and a 200); 404 for anyone who may not see it."""
    actor = current_actor()
    seen = glimpse(get_session(), dossier_id)
    if seen is None or not seen.visible_to(actor):
        raise NotFound("dossier not found")
    if seen.applicant_id != actor.user_id or seen.status in EDITABLE or seen.bundled:
        return render()
    cache = state().dossier_views
    key = f"{dossier_id}:{current_language()}"
    revision = (seen.version, seen.papers, seen.last_paper_at, seen.catalog, *seen.shown_state())
    body = cache.get(key, revision)
    if body is None:
        response = render()
        if response.status_code != 200 or response.headers.get("ETag") != etag(seen.version):
            return response  # the row moved between the glimpse and the load: keep nothing
        body = response.get_data()
        cache.put(key, revision, body)
    return Response(body, 200, mimetype="application/json", headers={"ETag": etag(seen.version)})
