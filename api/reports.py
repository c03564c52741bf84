"""Field reports (phản ánh hiện trường), the citizen's side: filing with photos, duplicates, following,
reopening and rating, and the report presenters the public map (api.reports_public) and the agency's
side (api.reports_admin) share."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask import Response, request, url_for

from api.blueprint import Blueprint
from api.context import calendar, get_session, settings, storage
from api.guards import current_actor
from api.http import (
    IDEMPOTENCY_HEADER,
    etag,
    idempotent_request,
    json_response,
)
from api.i18n import current_language
from api.openapi import documented
from schemas.common import encode_cursor
from schemas.reports import (
    CategoryListSchema,
    CreateReportFormSchema,
    CreateReportSchema,
    MineArgs,
    NearbyArgs,
    NearbySchema,
    PhotoListSchema,
    PhotoUploadSchema,
    ReopenSchema,
    ReportPageSchema,
    ReportRatingSchema,
    ReportSchema,
)
from services.actors import Actor
from services.clock import clock
from services.errors import ValidationFailed
from services.reports import categories, citizen, pins, queries
from services.reports.lifecycle import allowed_actions
from services.reports.table import label

if TYPE_CHECKING:
    from services.models import Report, ReportCategory, ReportPhoto

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Field reports: the citizen's side")
categories_blp = Blueprint("report_categories", __name__, url_prefix="/api/v1/report-categories",
                           description="What can be reported, and who fixes it")
_report = ReportSchema()

# Numbers that could be a phone or a citizen number, masked wherever a reporter's text is shown publicly.
_DIGITS = re.compile(r"(?<!\d)(?:\+?84|0)?[\d][\d .-]{7,14}\d(?!\d)")


def masked(text: str | None) -> str | None:
    return _DIGITS.sub("***", text) if text else text


# --- presenters --------------------------------------------------------------------------------------


def category_view(c: ReportCategory) -> dict[str, Any]:
    name = c.name_en or c.name if current_language() == "en" else c.name
    return {"code": c.code, "name": name, "agency_code": c.agency.code, "by_ward": c.by_ward, "sla_days": c.sla_days,
            "photo_required": c.photo_required, "active": c.active}


def photo_view(report: Report, photo: ReportPhoto) -> dict[str, Any]:
    return {"id": photo.id, "kind": photo.kind, "content_type": photo.content_type,
            "url": url_for("public_reports.photo", report_id=report.id, photo_id=photo.id)}


def pin_view(report: Report, followers: int = 0) -> dict[str, Any]:
    """A map pin: nothing about who reported it, followed it or handled it; the reporter's texts with
    numbers masked."""
    lang = current_language()
    category = report.category
    return {
        "id": report.id, "code": report.code, "category_code": category.code,
        "category_name": (category.name_en or category.name) if lang == "en" else category.name,
        "status": report.status, "status_label": label(report.status, lang),
        "description": masked(report.description), "lat": report.lat, "lon": report.lon,
        "address": masked(report.address), "agency_code": report.agency.code, "agency_name": report.agency.name,
        "created_at": report.created_at, "updated_at": report.status_changed_at, "resolved_at": report.resolved_at,
        "resolution_note": report.resolution_note, "followers": followers,
        "photos": [photo_view(report, p) for p in report.photos],
    }


def public_view(report: Report, followers: int = 0) -> dict[str, Any]:
    """A pin with its timeline (what happened, when; never who)."""
    lang = current_language()
    return {
        **pin_view(report, followers),
        "timeline": [{"action": e.action, "status": e.status, "status_label": label(e.status, lang), "at": e.at,
                      "note": masked(e.note) if e.action == "reopen" else e.note, "agency_code": e.agency_code}
                     for e in report.timeline],
    }


def full_view(report: Report, actor: Actor, *, followers: int = 0, following: bool = False) -> dict[str, Any]:
    """The reporter's view and the agency's; anyone else gets the public view."""
    own = report.reporter_id is not None and report.reporter_id == actor.user_id
    if not (own or queries.is_staff_of(report, actor)):
        return {**public_view(report, followers), "public": True, "following": following}
    now = clock.now()
    rating = ({"score": report.rating_score, "comment": report.rating_comment, "rated_at": report.rated_at}
              if report.rated_at else None)
    view = {**public_view(report, followers), "public": False, "urgent": report.urgent, "due_at": report.due_at,
            "overdue": queries.is_overdue(report, now), "reopen_count": report.reopen_count, "rating": rating,
            "following": following, "allowed_actions": allowed_actions(report, actor, now)}
    if own:  # the reporter's own words, unmasked
        view.update(description=report.description, address=report.address)
    return view


def reply(report: Report, status: int = 200, **headers: str) -> Response:
    actor, session = current_actor(), get_session()
    body = full_view(report, actor, followers=pins.follower_counts(session, [report.id]).get(report.id, 0),
                     following=queries.is_following(session, actor.user_id, report.id))
    return json_response(_report.dump(body), status, etag(report.version), headers)


# --- categories ----------------------------------------------------------------------------------------


@categories_blp.get("")
@categories_blp.response(200, CategoryListSchema)
def list_categories() -> dict[str, Any]:
    """The categories a citizen can report, with their agency, working days and whether a photo is needed."""
    return {"items": [category_view(c) for c in categories.list_categories(get_session())]}


# --- the citizen's side ----------------------------------------------------------------------------------

_FIELDS = {
    "category_code": {"type": "string", "minLength": 1, "maxLength": 40, "example": "road_damage"},
    "description": {"type": "string", "minLength": 5, "maxLength": 2000},
    "lat": {"type": "number", "minimum": -90, "maximum": 90, "example": 16.0678},
    "lon": {"type": "number", "minimum": -180, "maximum": 180, "example": 108.2208},
    "address": {"type": "string", "minLength": 1, "maxLength": 300, "nullable": True},
    "urgent": {"type": "boolean"},
}
CREATE_BODY = {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "additionalProperties": False, "properties": _FIELDS,
                                    "required": ["category_code", "description", "lat", "lon"]}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["category_code", "description", "lat", "lon"],
                                       "properties": {**_FIELDS, "file": {"type": "array", "maxItems": 5, "items": {
                                           "type": "string", "format": "binary"}}}}},
}}


def max_upload_bytes() -> int:
    return int(settings().max_upload_mb * 1024 * 1024)


@blp.post("")
@blp.doc(requestBody=CREATE_BODY, parameters=[IDEMPOTENCY_HEADER])
@blp.response(201, ReportSchema)
@documented(201, headers=("ETag", "Location"))
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="outside the province, a photo required, "
                  "an unknown category")
def create() -> Response:
    """File a report: JSON, or multipart/form-data with one to five photos (`file`, JPEG or PNG by content;
    the public copy has no EXIF metadata)."""
    multipart = request.mimetype == "multipart/form-data"
    parser = blp.ARGUMENTS_PARSER
    body = parser.parse(CreateReportFormSchema() if multipart else CreateReportSchema(), request,
                        location="form" if multipart else "json")
    streams = [f.stream for f in request.files.getlist("file")] if multipart else []
    if multipart and set(request.files) - {"file"}:
        raise ValidationFailed("unknown file field", errors={"file": ["Photos go in `file` parts only."]})
    actor = current_actor()
    uploads = citizen.prepare_photos(streams, max_bytes=max_upload_bytes())
    report = citizen.file_report(get_session(), actor, category_code=body["category_code"],
                                 description=body["description"], lat=body["lat"], lon=body["lon"],
                                 address=body["address"], urgent=body["urgent"], uploads=uploads, storage=storage(),
                                 calendar=calendar(), request=idempotent_request(actor.user_id))
    return reply(report, 201, Location=url_for("reports.get", report_id=report.id))


@blp.get("")
@blp.arguments(MineArgs, location="query", as_kwargs=True)
@blp.response(200, ReportPageSchema)
def list_own(limit: int, mine: bool = True, cursor: list[Any] | None = None) -> dict[str, Any]:
    """The caller's own reports, newest first, with their timelines."""
    actor = current_actor()
    page = queries.list_own(get_session(), actor, after=cursor, limit=limit)
    counts = pins.follower_counts(get_session(), [r.id for r in page.items])
    return {"items": [full_view(r, actor, followers=counts.get(r.id, 0)) for r in page.items],
            "next_cursor": encode_cursor(page.next_key)}


@blp.get("/nearby")
@blp.arguments(NearbyArgs, location="query", as_kwargs=True)
@blp.response(200, NearbySchema)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def nearby(lat: float, lon: float, category_code: str) -> dict[str, Any]:
    """Before filing: open reports of the category within 50 m (follow one instead of filing again)."""
    found = queries.nearby(get_session(), category_code, lat, lon)
    counts = pins.follower_counts(get_session(), [r.id for r, _ in found])
    return {"items": [{**public_view(r, counts.get(r.id, 0)), "distance_m": round(d, 1)} for r, d in found]}


@blp.get("/<string:report_id>")
@blp.response(200, ReportSchema)
@documented(200, headers=("ETag",))
@blp.alt_response(404, response="NOT_FOUND")
def get(report_id: str) -> Response:
    """One report: the full view for its reporter, the public view (no reporter data) for anyone else."""
    return reply(queries.get_report(get_session(), report_id))


@blp.post("/<string:report_id>/photos")
@blp.arguments(PhotoUploadSchema, location="files")
@blp.response(201, PhotoListSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="more than five photos")
def add_photo(files: dict[str, Any], report_id: str) -> dict[str, Any]:
    """Another photo of one's own open report (five at most); the public copy has no EXIF metadata."""
    session = get_session()
    added = citizen.add_photos(session, current_actor(), report_id, streams=[files["file"].stream],
                               storage=storage(), max_bytes=max_upload_bytes())
    report = queries.get_report(session, report_id)
    return {"items": [photo_view(report, p) for p in added]}


@blp.post("/<string:report_id>/follow")
@blp.response(200, ReportSchema)
@documented(200, headers=("ETag",))
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def follow(report_id: str) -> Response:
    """Follow an open report instead of filing a duplicate: its notifications come to you too."""
    return reply(citizen.follow(get_session(), current_actor(), report_id))


@blp.delete("/<string:report_id>/follow")
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def unfollow(report_id: str) -> None:
    """Stop following a report."""
    citizen.unfollow(get_session(), current_actor(), report_id)


@blp.post("/<string:report_id>/reopen")
@blp.arguments(ReopenSchema)
@blp.response(200, ReportSchema)
@documented(200, headers=("ETag",))
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="not resolved, or resolved more than 14 days ago")
def reopen(body: dict[str, Any], report_id: str) -> Response:
    """Not fixed after all: back into the agency's queue with the reason (within 14 days of `resolved`)."""
    return reply(citizen.reopen(get_session(), current_actor(), report_id, reason=body["reason"],
                                 calendar=calendar()))


@blp.post("/<string:report_id>/rating")
@blp.arguments(ReportRatingSchema)
@blp.response(201, ReportRatingSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def rating(body: dict[str, Any], report_id: str) -> dict[str, Any]:
    """Rate how the report was handled, once, when resolved."""
    r = citizen.rate(get_session(), current_actor(), report_id, score=body["score"], comment=body["comment"])
    return {"score": r.rating_score, "comment": r.rating_comment}
