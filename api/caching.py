"""Revision-based ETags and a small cache of rendered bodies for data that rarely changes (the catalog).

The ETag of a catalog response is derived from the catalog revision and the request, so a 304 costs
one indexed read and no rendering; a full response is rendered once per revision and reused.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Response, json, request

# Bumped when the representation changes without a data change (a deploy), so old ETags stop matching.
REPRESENTATION = "1"


class RenderedCache:
    """A bounded LRU of (key → (revision, body)); stale revisions are simply re-rendered."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, revision: int) -> bytes | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] != revision:
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: str, revision: int, body: bytes) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = (revision, body)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def revisioned_response(cache: RenderedCache, revision: int, render: Callable[[], Any]) -> Response:
    """200 with the rendered body and an ETag, or 304 when the client's copy is current."""
    key = f"{request.path}?{request.query_string.decode('latin-1')}"
    digest = hashlib.blake2s(key.encode(), digest_size=8).hexdigest()
    etag = f"r{REPRESENTATION}.{revision}.{digest}"
    headers = {"Cache-Control": "no-cache", "Vary": "Accept-Language"}
    if request.if_none_match.contains(etag):
        response = Response(status=304, headers=headers)
    else:
        body = cache.get(key, revision)
        if body is None:
            body = json.dumps(render(), ensure_ascii=False).encode()
            cache.put(key, revision, body)
        response = Response(body, mimetype="application/json", headers=headers)
    response.set_etag(etag)
    return response
