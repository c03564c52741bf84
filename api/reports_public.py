"""The public map of field reports, and their public photos: nothing about the reporter.

A box is a set of grid cells. Each app server keeps every cell's pins rendered to JSON, per language,
with the cell's revision (services.reports.pins); a request reads the box's revisions in one indexed
query, loads and renders again only the cells that moved, then picks the newest pins inside the box.
A city map is then one small read and a join of ready-made bytes, however long the city's history;
the same box asked again with nothing moved in it (a city's default view) is answered from memory, or
304 to a phone that sends its ETag back.
When the box holds more than `limit` pins the answer says so (`truncated`) and adds up to 16 × 16
clusters (how many reports, around where) for the app to draw instead of pins.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import json
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, request, url_for

from api.blueprint import Blueprint
from api.context import get_session, settings, state
from api.http import send_stored
from api.i18n import current_language
from api.openapi import BINARY, documented
from api.reports import masked
from schemas.reports import MapArgs, MapSchema
from services.clock import clock
from services.errors import NotFound
from services.reports import pins, queries
from services.reports.table import label
from services.storage import check_sha256

public_blp = Blueprint("public_reports", __name__, url_prefix="/api/v1/public/reports",
                       description="The public map of field reports: nothing about the reporter")

CLUSTER_GRID = 16  # a truncated answer's clusters: the box cut into 16 × 16
MAX_AGE = 15  # seconds a phone or a proxy may keep a map answer


@dataclass(frozen=True, slots=True)
class Rendered:
    """A pin ready to send: what the box, the filter and the order need, and its JSON."""

    order: tuple[float, str]  # newest first, then by id
    lat: float
    lon: float
    category_code: str
    until: float  # when it leaves the map by itself (epoch seconds; infinity while open)
    body: bytes


class Answer:
    """A rendered map answer, and its gzip made once when a phone first asks for it."""

    __slots__ = ("_gzipped", "body")

    def __init__(self, body: bytes) -> None:
        self.body, self._gzipped = body, b""

    def gzipped(self) -> bytes:
        if not self._gzipped:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def map_pin(pin: pins.Pin, lang: str, photo_prefix: str) -> dict[str, Any]:
    """The same fields as PinSchema (and api.reports.pin_view), from plain columns."""
    return {
        "id": pin.id, "code": pin.code, "category_code": pin.category_code,
        "category_name": (pin.category_name_en or pin.category_name) if lang == "en" else pin.category_name,
        "status": pin.status, "status_label": label(pin.status, lang), "description": masked(pin.description),
        "lat": pin.lat, "lon": pin.lon, "address": masked(pin.address), "agency_code": pin.agency_code,
        "agency_name": pin.agency_name, "created_at": _time(pin.created_at), "updated_at": _time(pin.updated_at),
        "resolved_at": _time(pin.resolved_at), "resolution_note": pin.resolution_note, "followers": pin.followers,
        "photos": [{"id": photo_id, "kind": kind, "content_type": content_type,
                    "url": f"{photo_prefix}/{pin.id}/photos/{photo_id}"}
                   for photo_id, kind, content_type in pin.photos],
    }


def _render(found: Iterable[pins.Pin], lang: str, prefix: str) -> tuple[Rendered, ...]:
    return tuple(Rendered((-p.created_at.timestamp(), p.id), p.lat, p.lon, p.category_code,
                          until.timestamp() if (until := pins.shown_until(p)) else math.inf,
                          json.dumps(map_pin(p, lang, prefix), ensure_ascii=False).encode())
                 for p in found)


def cell_pins(revisions: dict[int, int], lang: str, prefix: str, catalog: int) -> list[tuple[Rendered, ...]]:
    """Each cell's rendered pins: from this process's cache while neither the cell's revision nor the
    catalog's (agency names show on pins) has moved."""
    cache, view = state().map_cells, f"{lang}|{prefix}|{catalog}"
    cached = {cell: cache.get(f"{view}|{cell}", revision) for cell, revision in revisions.items()}
    stale = [cell for cell, hit in cached.items() if hit is None]
    if stale:
        for cell, found in pins.shown_in(get_session(), stale).items():
            cached[cell] = rendered = _render(found, lang, prefix)
            cache.put(f"{view}|{cell}", revisions[cell], rendered)
    return [hit for hit in cached.values() if hit is not None]


def inside(box: pins.Box, cells: list[tuple[Rendered, ...]], category_code: str | None, now: float) -> list[Rendered]:
    """The cached pins inside the exact box, of the category asked for, still shown at `now`."""
    south, west, north, east = box.south, box.west, box.north, box.east
    return [r for cell in cells for r in cell
            if south <= r.lat <= north and west <= r.lon <= east and r.until >= now
            and (category_code is None or r.category_code == category_code)]


def clusters(box: pins.Box, chosen: list[Rendered]) -> list[dict[str, Any]]:
    """How many reports around where, on a 16 × 16 cut of the box (for a map zoomed out too far)."""
    south, west = box.south, box.west
    # A hair under 16 parts a side, so that a pin on the north or east edge falls in the last part.
    rows = CLUSTER_GRID * (1 - 1e-9) / (box.north - south)
    columns = CLUSTER_GRID * (1 - 1e-9) / (box.east - west)
    sums: dict[int, list[float]] = {}
    for r in chosen:
        part = int((r.lat - south) * rows) * CLUSTER_GRID + int((r.lon - west) * columns)
        total = sums.get(part)
        if total is None:
            sums[part] = [r.lat, r.lon, 1.0]
        else:
            total[0] += r.lat
            total[1] += r.lon
            total[2] += 1.0
    return [{"lat": round(lat / n, 6), "lon": round(lon / n, 6), "count": int(n)}
            for lat, lon, n in (sums[k] for k in sorted(sums))]


def box_revisions(box: pins.Box) -> dict[int, int]:
    """The box's cell revisions, read again once `map_revision_ttl` has passed (a second by default):
    the same box asked many times a second (a city's default view) costs the database nothing."""
    ttl = settings().map_revision_ttl
    if ttl <= 0:
        return pins.revisions(get_session(), box)
    key, period = repr(box.cell_ranges()), int(time.monotonic() / ttl)
    recent = state().map_revisions
    if (found := recent.get(key, period)) is None:
        found = pins.revisions(get_session(), box)
        recent.put(key, period, found)
    return found


def render_map(box: pins.Box, cells: list[tuple[Rendered, ...]], category_code: str | None, limit: int,
               now: float) -> bytes:
    chosen = inside(box, cells, category_code, now)
    newest = heapq.nsmallest(limit, chosen, key=lambda r: r.order)
    truncated = len(chosen) > limit
    tail = json.dumps({"truncated": truncated, "clusters": clusters(box, chosen) if truncated else []})
    return b'{"items": [' + b", ".join(r.body for r in newest) + b"], " + tail[1:].encode()


@public_blp.get("")
@public_blp.arguments(MapArgs, location="query", as_kwargs=True)
@public_blp.response(200, MapSchema)
@documented(200, headers=("Cache-Control", "ETag"), if_none_match=True)
@documented(304, headers=("Cache-Control", "ETag"))
@public_blp.alt_response(304, response="NOT_MODIFIED")
@public_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def public_map(bbox: str, limit: int, category_code: str | None = None) -> Response:
    """Open and recently resolved reports in a box (at most `limit`, newest first): public photos, nothing
    about the reporter. When the box holds more, `truncated` is true and `clusters` counts them all.
    The ETag changes when anything shown in the box does: If-None-Match answers 304. Sent gzipped to a
    client that accepts it."""
    box = pins.Box.parse(bbox)
    revisions = box_revisions(box)
    lang, prefix = current_language(), url_for("public_reports.public_map")
    now = math.floor(clock.now().timestamp() / 60) * 60  # resolved pins leave on the minute
    catalog = state().catalog_revision.current()
    signature = hashlib.blake2s(repr((lang, prefix, catalog, box, category_code, limit, now,
                                      sorted(revisions.items())))
                                .encode(), digest_size=12).hexdigest()
    headers = {"Cache-Control": f"public, max-age={MAX_AGE}", "ETag": f'"m.{signature}"', "Vary": "Accept-Encoding"}
    if request.if_none_match.contains(f"m.{signature}"):
        return Response(status=304, headers=headers, mimetype="application/json")
    answers = state().map_answers  # the same box asked again (a city's default view): no work at all
    if (answer := answers.get(signature, 0)) is None:
        answer = Answer(render_map(box, cell_pins(revisions, lang, prefix, catalog), category_code, limit, now))
        answers.put(signature, 0, answer)
    if "gzip" in request.accept_encodings:  # a city's 500 pins: 324 KB of JSON, 41 KB gzipped
        return Response(answer.gzipped(), mimetype="application/json", headers={**headers, "Content-Encoding": "gzip"})
    return Response(answer.body, mimetype="application/json", headers=headers)


@public_blp.get("/<string:report_id>/photos/<string:photo_id>")
@public_blp.response(200, description="the photo's public copy", content_type="image/jpeg")
@documented(200, headers=("ETag",), content={t: BINARY for t in ("image/jpeg", "image/png")})
@public_blp.alt_response(404, response="NOT_FOUND")
def photo(report_id: str, photo_id: str) -> Response:
    """A report's photo as shown publicly: re-encoded, without EXIF metadata."""
    report = queries.get_report(get_session(), report_id)
    found = next((p for p in report.photos if p.id == photo_id), None)
    if found is None:
        raise NotFound("photo not found")
    return send_stored(check_sha256(found.sha256), mimetype=found.content_type, max_age=3600)
