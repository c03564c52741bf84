"""Inbox answers from each notification's kept rendering.

A notification's rendering in a language (title and body from the templates, the push's data, through
NotificationSchema) is kept by its id and language, with the row as read (`inbox.SHOWN`, the params as
their JSON text) as its revision: marking it read, or any other change to the row, renders it again.
An inbox page is then its one statement (services.notices.inbox.page) and a join of kept renderings;
the Flask view and the WSGI edge (api/edge_reads.py) build it the same way.
"""

from __future__ import annotations

import json
from typing import Any

from api.caching import RenderedCache
from api.http import page_json
from notifications import templates
from schemas.notifications import NotificationSchema
from services.pagination import Page

_SCHEMA = NotificationSchema()


def present(note: Any, lang: str) -> dict[str, Any]:
    params = json.loads(note.params_json or "null") or {}
    title, body = templates.render(note.kind, params, lang)
    return {"id": note.id, "kind": note.kind, "title": title, "body": body, "created_at": note.created_at,
            "read_at": note.read_at, "data": templates.data(kind=note.kind, params=params,
                                                             dossier_id=note.dossier_id, notification_id=note.id)}


def _rendered(cache: RenderedCache[bytes], note: Any, lang: str) -> bytes:
    key, revision = f"{note.id}:{lang}", tuple(note)
    if (body := cache.get(key, revision)) is None:
        body = json.dumps(_SCHEMA.dump(present(note, lang)), ensure_ascii=False).encode()
        cache.put(key, revision, body)
    return body


def inbox_page(cache: RenderedCache[bytes], page: Page[Any], lang: str) -> bytes:
    return page_json([_rendered(cache, note, lang) for note in page.items], page.next_key)
