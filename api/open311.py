"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) at /open311/v2, JSON only.

Outside /api/v1 and in the specification's own shapes: errors are its array
`[{"code": 403, "description": "…"}]` with the HTTP status, not problem+json; a POST is form-encoded
and carries an `api_key` an admin issued (POST /api/v1/admin/open311-keys). Services are the report
categories, a service request is a report, `service_request_id` its code. The caller's name, email,
phone and device the specification lets a client send are not kept: only what a report holds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

import marshmallow as ma
from flask import Response, json, request, url_for
from marshmallow import fields

from api.blueprint import Blueprint
from api.context import calendar, get_session, storage
from api.errors import STATUS_OF_CODE
from api.guards import current_actor
from api.reports import masked
from schemas.reports import Open311KeyRequestSchema, Open311KeySchema
from services.calendar import TZ
from services.errors import DomainError, NotFound, ValidationFailed
from services.reports import categories, citizen, open311
from services.reports.table import OPEN, label

if TYPE_CHECKING:
    from services.models import Report

blp = Blueprint("open311", __name__, url_prefix="/open311/v2",
                description="Open311 GeoReport v2: services, service definitions, service requests (the "
                            "specification's fields and error format, not problem+json)")
admin_blp = Blueprint("admin_open311", __name__, url_prefix="/api/v1/admin/open311-keys",
                      description="Open311 api_keys for partner systems (admin)")

F = TypeVar("F", bound=Callable[..., Any])
SPEC_STATUS = {400: 400, 401: 403, 403: 403, 404: 404, 409: 400, 413: 400, 415: 400, 422: 400}


# --- the specification's shapes (documented in OpenAPI) -------------------------------------------------


class ErrorSchema(ma.Schema):
    code = fields.Integer(required=True, metadata={"example": 403})
    description = fields.String(required=True)


class ServiceSchema(ma.Schema):
    service_code = fields.String(required=True, metadata={"example": "road_damage"})
    service_name = fields.String(required=True)
    description = fields.String(required=True)
    metadata = fields.Boolean(required=True, metadata={"description": "false: no extra attributes"})
    type = fields.String(required=True, metadata={"example": "realtime"})
    keywords = fields.String(required=True)
    group = fields.String(required=True)


class AttributeSchema(ma.Schema):
    variable = fields.Boolean(required=True)
    code = fields.String(required=True)
    datatype = fields.String(required=True)
    required = fields.Boolean(required=True)
    datatype_description = fields.String(allow_none=True)
    order = fields.Integer(required=True)
    description = fields.String(required=True)
    values = fields.List(fields.Dict(), required=True)


class DefinitionSchema(ma.Schema):
    service_code = fields.String(required=True)
    attributes = fields.List(fields.Nested(AttributeSchema), required=True)


class RequestSchema(ma.Schema):
    service_request_id = fields.String(required=True, metadata={"example": "PA-261125-00001"})
    status = fields.String(required=True, metadata={"enum": ["open", "closed"]})
    status_notes = fields.String(allow_none=True)
    service_name = fields.String(required=True)
    service_code = fields.String(required=True)
    description = fields.String(allow_none=True)
    agency_responsible = fields.String(allow_none=True)
    service_notice = fields.String(allow_none=True)
    requested_datetime = fields.String(required=True, metadata={"format": "date-time"})
    updated_datetime = fields.String(allow_none=True, metadata={"format": "date-time"})
    expected_datetime = fields.String(allow_none=True, metadata={"format": "date-time"})
    address = fields.String(allow_none=True)
    address_id = fields.String(allow_none=True)
    zipcode = fields.String(allow_none=True)
    lat = fields.Float(required=True)
    long = fields.Float(required=True)
    media_url = fields.String(allow_none=True)


class CreatedSchema(ma.Schema):
    service_request_id = fields.String(required=True)
    service_notice = fields.String(allow_none=True)
    account_id = fields.String(allow_none=True)


_JURISDICTION = {"in": "query", "name": "jurisdiction_id", "required": False, "schema": {"type": "string"},
                 "description": f"accepted; this endpoint serves `{open311.JURISDICTION_ID}`"}
_POST_FIELDS = {
    "api_key": {"type": "string"}, "jurisdiction_id": {"type": "string"}, "service_code": {"type": "string"},
    "lat": {"type": "number"}, "long": {"type": "number"}, "address_string": {"type": "string"},
    "address_id": {"type": "string"}, "email": {"type": "string"}, "device_id": {"type": "string"},
    "account_id": {"type": "string"}, "first_name": {"type": "string"}, "last_name": {"type": "string"},
    "phone": {"type": "string"}, "description": {"type": "string"}, "media_url": {"type": "string"},
}
_LIST_PARAMETERS: dict[str, dict[str, Any]] = {
    "service_request_id": {"type": "string", "description": "one or more, comma-separated"},
    "service_code": {"type": "string"}, "start_date": {"type": "string", "format": "date-time"},
    "end_date": {"type": "string", "format": "date-time"}, "status": {"type": "string", "enum": ["open", "closed"]},
}
POST_BODY = {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "required": ["api_key", "service_code"], "properties": _POST_FIELDS}}}}


ERROR_MEANING = {400: "a bad or missing parameter", 403: "api_key missing or not valid",
                 404: "jurisdiction_id, service_code or service_request_id not found"}


def spec_errors(*statuses: int) -> Callable[[F], F]:
    """Domain errors leave in the specification's format, `[{code, description}]`, documented so."""

    def decorate(view: F) -> F:
        wrapped = _spec_errors(view)
        for status in statuses:
            wrapped = blp.alt_response(status, schema=ErrorSchema(many=True), description=ERROR_MEANING[status],
                                       content_type="application/json")(wrapped)
        return wrapped

    return decorate


def _spec_errors(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            if any("\x00" in value for value in request.values.values()):
                raise ValidationFailed("NUL characters are not allowed")
            return view(*args, **kwargs)
        except DomainError as exc:
            status = SPEC_STATUS.get(STATUS_OF_CODE.get(exc.code, 400), 400)
            detail = exc.detail or exc.code
            if exc.errors:
                detail += ": " + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
            return _json([{"code": status, "description": detail}], status)

    return cast(F, wrapper)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def _w3c(moment: datetime | None) -> str | None:
    return moment.astimezone(TZ).isoformat(timespec="seconds") if moment else None


def _number(name: str, text: str | None) -> float:
    try:
        value = float(text or "")
    except ValueError as exc:
        raise ValidationFailed(f"{name} must be a number") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise ValidationFailed(f"{name} must be a number")
    return value


def _date(name: str) -> datetime | None:
    text = request.args.get(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationFailed(f"{name} must be a W3C (ISO 8601) date-time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=TZ)


def request_view(r: Report) -> dict[str, Any]:
    """A report as a GeoReport v2 service request: every field the specification lists, nothing personal."""
    photo = next((p for p in r.photos), None)
    media_url = (url_for("public_reports.photo", report_id=r.id, photo_id=photo.id, _external=True)
                 if photo else r.media_url)
    closed = r.status not in OPEN
    return {
        "service_request_id": r.code, "status": "closed" if closed else "open",
        "status_notes": r.resolution_note if closed else label(r.status, "en"),
        "service_name": r.category.name, "service_code": r.category.code, "description": masked(r.description),
        "agency_responsible": r.agency.name, "service_notice": _notice(r.category.sla_days, r.urgent),
        "requested_datetime": _w3c(r.created_at), "updated_datetime": _w3c(r.status_changed_at),
        "expected_datetime": _w3c(r.due_at), "address": masked(r.address), "address_id": None, "zipcode": None,
        "lat": r.lat, "long": r.lon, "media_url": media_url,
    }


def _notice(days: int, urgent: bool = False) -> str:
    return f"Xử lý trong {1 if urgent else days} ngày làm việc / handled within {1 if urgent else days} working days"


@blp.get("/services.json")
@blp.doc(parameters=[_JURISDICTION])
@blp.response(200, ServiceSchema(many=True))
@spec_errors(400, 404)
def services() -> Response:
    """Service discovery: every report category, as the specification lists a service."""
    open311.check_jurisdiction(request.args.get("jurisdiction_id"))
    return _json([{"service_code": c.code, "service_name": c.name, "description": c.name_en or c.name,
                   "metadata": False, "type": "realtime", "keywords": c.code.replace("_", ","),
                   "group": c.agency.name} for c in categories.list_categories(get_session())])


@blp.get("/services/<string:service_code>.json")
@blp.doc(parameters=[_JURISDICTION])
@blp.response(200, DefinitionSchema)
@spec_errors(400, 404)
def service_definition(service_code: str) -> Response:
    """A service's definition: no extra attributes (metadata is false for every service)."""
    open311.check_jurisdiction(request.args.get("jurisdiction_id"))
    category = categories.get_category(get_session(), service_code)
    return _json({"service_code": category.code, "attributes": []})


@blp.get("/requests.json")
@blp.doc(parameters=[_JURISDICTION, *({"in": "query", "name": n, "required": False, "schema": schema}
                                      for n, schema in _LIST_PARAMETERS.items())])
@blp.response(200, RequestSchema(many=True))
@spec_errors(400, 404)
def list_requests() -> Response:
    """Service requests: by id (comma-separated), or by service_code, dates (last 90 days by default) and
    status; newest first, at most 1,000."""
    open311.check_jurisdiction(request.args.get("jurisdiction_id"))
    status = request.args.get("status")
    if status not in (None, "open", "closed"):
        raise ValidationFailed("status is open or closed")
    ids = [i.strip() for i in (request.args.get("service_request_id") or "").split(",") if i.strip()]
    found = open311.find_requests(get_session(), codes=ids, service_code=request.args.get("service_code"),
                                  start=_date("start_date"), end=_date("end_date"), status=status)
    return _json([request_view(r) for r in found])


@blp.post("/requests.json")
@blp.doc(requestBody=POST_BODY, parameters=[_JURISDICTION])
@blp.response(200, CreatedSchema(many=True))
@spec_errors(400, 403, 404)
def create_request() -> Response:
    """File a service request (form-encoded, with an api_key): it becomes a report, routed and timed as one."""
    values = request.values
    session = get_session()
    key = open311.check_key(session, values.get("api_key"))
    open311.check_jurisdiction(values.get("jurisdiction_id"))
    code = values.get("service_code") or ""
    if not code:
        raise ValidationFailed("service_code is required")
    if categories.find_category(session, code) is None:
        raise NotFound("service_code not found")
    if not values.get("lat") or not values.get("long"):
        raise ValidationFailed("lat and long are required (address_string alone is not geocoded here)")
    description = (values.get("description") or "").strip()
    if not 5 <= len(description) <= 2000 or "\x00" in description:
        raise ValidationFailed("description is required, 5 to 2,000 characters")
    media_url = values.get("media_url") or None
    if media_url is not None and (len(media_url) > 500 or not media_url.startswith(("https://", "http://"))):
        raise ValidationFailed("media_url must be an http(s) URL of at most 500 characters")
    address = (values.get("address_string") or "").strip()[:300] or None
    report = citizen.file_report(session, None, category_code=code, description=description,
                                 lat=_number("lat", values.get("lat")), lon=_number("long", values.get("long")),
                                 address=address, urgent=False, uploads=[], storage=storage(), calendar=calendar(),
                                 request=None, media_url=media_url, open311_key_id=key.id)
    return _json([{"service_request_id": report.code, "service_notice": _notice(report.category.sla_days),
                   "account_id": None}])


@blp.get("/requests/<string:service_request_id>.json")
@blp.doc(parameters=[_JURISDICTION])
@blp.response(200, RequestSchema(many=True))
@spec_errors(400, 404)
def get_request(service_request_id: str) -> Response:
    """One service request (an array of one, as the specification has it)."""
    open311.check_jurisdiction(request.args.get("jurisdiction_id"))
    return _json([request_view(open311.get_request(get_session(), service_request_id))])


# --- api_keys (admin, problem+json like the rest of /api/v1) ---------------------------------------------


@admin_blp.post("")
@admin_blp.arguments(Open311KeyRequestSchema)
@admin_blp.response(201, Open311KeySchema)
def issue_key(body: dict[str, Any]) -> dict[str, Any]:
    """Issue an api_key to a partner system; the key is shown this once."""
    row, key = open311.issue_key(get_session(), current_actor(), name=body["name"])
    return {"id": row.id, "name": row.name, "api_key": key, "created_at": row.created_at}


@admin_blp.delete("/<string:key_id>")
@admin_blp.response(204)
@admin_blp.alt_response(404, response="NOT_FOUND")
def revoke_key(key_id: str) -> None:
    """Revoke an api_key: its next POST is 403."""
    open311.revoke_key(get_session(), current_actor(), key_id)
