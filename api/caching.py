"""Revision-based ETags and a cache of rendered bodies for data that rarely changes (the catalog).

A catalog response's ETag is derived from the catalog revision and the request URL, so a 304 is
answered before arguments are parsed or anything is rendered; a 200 is rendered once per revision
and URL, then served from memory. The revision itself is re-read from the database at most once per
`catalog_revision_ttl` seconds per process (0 reads it on every request), which bounds how long a
catalog change takes to reach every app server.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

# Bumped when the representation changes without a data change (a deploy), so old ETags stop matching.
REPRESENTATION = "1"


def cache_key(lang: str, path: str, query: str) -> str:
    """What a revisioned answer depends on: the language (names follow Accept-Language) and the URL."""
    return f"{lang}:{path}?{query}"


def revision_etag(key: str, revision: int) -> str:
    """The ETag (unquoted) of a revisioned answer: the revision and a hash of what was asked."""
    return f"r{REPRESENTATION}.{revision}.{hashlib.blake2s(key.encode(), digest_size=8).hexdigest()}"


class RevisionCache:
    """The latest revision read, reused for `ttl` seconds; `read` runs outside any request state."""

    def __init__(self, read: Callable[[], int], ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.read, self.ttl, self.clock = read, ttl, clock
        self._value: int | None = None
        self._read_at = float("-inf")

    def expire(self) -> None:
        self._value = None

    def fresh(self) -> int | None:
        """The revision if it was read less than `ttl` seconds ago, else None (the caller reads it anew)."""
        return self._value if self._value is not None and self.clock() - self._read_at < self.ttl else None

    def current(self) -> int:
        now = self.clock()
        if self._value is None or now - self._read_at >= self.ttl:
            self._value, self._read_at = self.read(), now
        return self._value


class RenderedCache(Generic[V]):
    """A bounded LRU of key → (revision, rendered value); entries of another revision are re-rendered.
    A revision is anything comparable: a number, or a tuple of what the value was rendered from."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[Hashable, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, revision: Hashable) -> V | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] != revision:
                return None
            self._items.move_to_end(key)
            return hit[1]

    def kept(self, key: str) -> bool:
        """Whether anything is kept for the key, of whatever revision (is it worth reading the revision?)."""
        return key in self._items

    def put(self, key: str, revision: Hashable, body: V) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = (revision, body)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
