"""Signed-in reads answered at the WSGI edge (api/edge.py): the citizen's own dossier from its kept
rendering, their inbox page and unread count, and an official's queue page from kept renderings.

A phone asks for these again and again (the dossier while it waits at the office, the badge on every
screen, the inbox after each push), and an official refreshes the queue all day. Once the full path has checked a token,
the session behind it, rendered the dossiers and parsed the queue's query string, what is left to do
is one statement (a glimpse of the dossier or of the page, services.dossiers.glimpse, the inbox page or
a count) on a connection outside any session, on PostgreSQL mostly straight on the driver
(services.db.fetch_rows). Everything else falls through to Flask, which answers it fully: a
token not checked yet or whose session was not looked at within `revocation_check_seconds`, a draft, a
dossier of a bundle, someone else's dossier, an admin's queue, a query string not parsed yet, a
rendering not kept for this revision, and any database error. A queue page the edge made is kept whole
and checked again by its marks (services.dossiers.glimpse), one narrow statement.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from api import notice_views
from api.context import AppState
from api.dossier_views import GLIMPSED, keep_whole, kept_by_marks, kept_own, kept_page, page_key
from api.http import etag
from api.i18n import negotiate
from services.actors import Actor
from services.clock import clock
from services.dossiers.glimpse import glimpse
from services.dossiers.queries import agency_queue, agency_queue_marks, own_agency
from services.dossiers.table import EDITABLE
from services.errors import Unauthorized
from services.notices import inbox
from services.people.identity import Principal
from vocab import Role

if TYPE_CHECKING:
    from sqlalchemy import Connection

T = TypeVar("T")

DOSSIER = re.compile(r"/api/v1/dossiers/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
DOSSIER_ROUTE = "/api/v1/dossiers/<string:dossier_id>"  # the Flask rule, the metrics' label
QUEUE_ROUTE = "/api/v1/admin/dossiers"
INBOX_ROUTE = "/api/v1/me/notifications"
UNREAD_ROUTE = "/api/v1/me/notifications/unread-count"

Answer = tuple[int, list[tuple[str, str]], bytes, str]  # status, headers, body, route


def signed_in(state: AppState, environ: dict[str, Any], role: str = "citizen") -> Principal | None:
    """The caller of a bearer token with this role that the full path has already let through and whose
    session it has looked at recently; else None."""
    scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    runtime = state.runtime
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        principal = runtime.access_tokens.principal(token.strip(), settings=runtime.settings)
    except Unauthorized:
        return None
    return principal if principal.has(role) and runtime.revocations.passes(principal) else None


def _read(state: AppState, read: Callable[[Connection], T]) -> T | None:
    """`read` on a connection outside any session, or None when it failed: a lost connection or any other
    fault is the full path's to answer (with its retries and its 503)."""
    try:
        with state.runtime.reads() as connection:
            return read(connection)
    except Exception:  # noqa: BLE001 (see above)
        return None


def own_dossier(state: AppState, environ: dict[str, Any], path: str) -> Answer | None:
    match = DOSSIER.fullmatch(path)
    if match is None or environ.get("QUERY_STRING") or (principal := signed_in(state, environ)) is None:
        return None
    seen = _read(state, lambda connection: glimpse(connection, match[1]))
    if seen is None or seen.applicant_id != principal.user_id or seen.status in EDITABLE:
        return None
    environ[GLIMPSED] = seen  # if Flask must answer after all, it need not glimpse again
    body = kept_own(state.dossier_views, seen, negotiate(environ.get("HTTP_ACCEPT_LANGUAGE")))
    return None if body is None else (200, [("ETag", etag(seen.version))], body, DOSSIER_ROUTE)


def unread(state: AppState, environ: dict[str, Any], path: str) -> Answer | None:
    if path != UNREAD_ROUTE or environ.get("QUERY_STRING") or (principal := signed_in(state, environ)) is None:
        return None
    count = _read(state, lambda connection: inbox.unread_count(connection, principal.user_id))
    if count is None:
        return None
    return 200, [], b'{"count":%d}\n' % count, UNREAD_ROUTE


def inbox_page(state: AppState, environ: dict[str, Any], path: str) -> Answer | None:
    """A page of the citizen's inbox, for a query string Flask has parsed (renderings kept per notice)."""
    if path != INBOX_ROUTE or (principal := signed_in(state, environ)) is None:
        return None
    if (args := state.inbox_queries.get(environ.get("QUERY_STRING", ""), 0)) is None:
        return None
    if (page := _read(state, lambda connection: inbox.page(connection, principal.user_id, **args))) is None:
        return None
    body = notice_views.inbox_page(state.notice_views, page, negotiate(environ.get("HTTP_ACCEPT_LANGUAGE")))
    return 200, [], body, INBOX_ROUTE


def queue(state: AppState, environ: dict[str, Any], path: str) -> Answer | None:
    """An official's own agency's queue page, for a query string Flask has parsed: kept whole and checked by
    its marks (one narrow statement), else read and made from the kept dossiers, when every one on it is."""
    if path != QUEUE_ROUTE or (principal := signed_in(state, environ, "official")) is None:
        return None
    query = environ.get("QUERY_STRING", "")
    narrowing = state.queue_queries.get(query, 0)
    actor = Actor(user_id=principal.user_id, role=Role.official, agency_code=principal.agency_code, origin="-")
    if principal.has(Role.admin) or narrowing is None:
        return None
    if (agency := own_agency(actor, narrowing["agency_code"])) is None:
        return None
    filters = {name: value for name, value in narrowing.items() if name != "agency_code"}
    lang, now = negotiate(environ.get("HTTP_ACCEPT_LANGUAGE")), clock.now()
    key = page_key(agency, query, lang, actor)
    if state.queue_pages.kept(key):
        if (seen := _read(state, lambda connection: agency_queue_marks(connection, agency, **filters))) is None:
            return None
        if (body := kept_by_marks(state.queue_pages, key, seen, now)) is not None:
            return 200, [], body, QUEUE_ROUTE
    if (page := _read(state, lambda connection: agency_queue(connection, agency, **filters))) is None:
        return None
    if (body := kept_page(state.dossier_views, page, lang, actor, now)) is None:
        return None
    keep_whole(state.queue_pages, key, page, body, now)
    return 200, [], body, QUEUE_ROUTE
