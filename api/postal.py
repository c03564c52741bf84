"""The postal channel: officials order a pickup or a return through the carrier and follow shipments
(those stuck over two working days in one status too); the carrier's signed status callbacks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request

from api.blueprint import Blueprint
from api.context import calendar, get_session, settings
from api.guards import current_actor
from schemas.common import encode_cursor
from schemas.desk import (
    CallbackAnswerSchema,
    CarrierCallbackSchema,
    CreateShipmentSchema,
    ShipmentArgs,
    ShipmentPageSchema,
    ShipmentSchema,
)
from services.clock import clock
from services.errors import Unauthorized
from services.postal import shipments
from services.postal.carrier import SIGNATURE_HEADER, HttpCarrier, verify

blp = Blueprint("admin_shipments", __name__, url_prefix="/api/v1/admin",
                description="Postal pickups and returns (bưu chính công ích)")
callback_blp = Blueprint("postal", __name__, url_prefix="/api/v1/postal",
                         description="The postal carrier's status callbacks")


def _carrier() -> HttpCarrier:
    config = settings()
    return HttpCarrier(config.postal_carrier_url, config.postal_api_key, timeout=config.postal_timeout_seconds)


@blp.post("/dossiers/<string:dossier_id>/shipments")
@blp.arguments(CreateShipmentSchema)
@blp.response(201, ShipmentSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def create_shipment(body: dict[str, Any], dossier_id: str) -> Any:
    """Order a pickup of the papers or a return of the result to an address, through the carrier."""
    return shipments.create(get_session(), current_actor(), dossier_id, kind=body["kind"], address=body["address"],
                            carrier=_carrier(), callback_url=settings().postal_callback_url)


@blp.get("/shipments")
@blp.arguments(ShipmentArgs, location="query", as_kwargs=True)
@blp.response(200, ShipmentPageSchema)
@blp.alt_response(404, response="NOT_FOUND")
def list_shipments(limit: int, cursor: list[Any] | None = None, stuck: bool | None = None,
                   agency_code: str | None = None) -> dict[str, Any]:
    """The shipments of the agency's dossiers, the longest unchanged first."""
    page = shipments.listing(get_session(), current_actor(), calendar=calendar(), stuck=stuck,
                             agency_code=agency_code, after=cursor, limit=limit)
    items = [{"id": s.id, "dossier_id": s.dossier_id, "kind": s.kind, "waybill_no": s.waybill_no, "status": s.status,
              "fee_vnd": s.fee_vnd, "status_changed_at": s.status_changed_at, "dossier_code": code}
             for s, code in page.items]
    return {"items": items, "next_cursor": encode_cursor(page.next_key)}


@callback_blp.before_request
def _signed() -> None:
    """Before the body is even parsed: a callback not signed by the carrier (or signed too long ago)."""
    if not verify(request.get_data(cache=True), request.headers.get(SIGNATURE_HEADER),
                  settings().postal_hmac_secret, clock.now()):
        raise Unauthorized("invalid or expired carrier signature")


@callback_blp.post("/callback")
@callback_blp.doc(parameters=[{"in": "header", "name": SIGNATURE_HEADER, "required": True,
                               "description": 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">',
                               "schema": {"type": "string"}}])
@callback_blp.arguments(CarrierCallbackSchema)
@callback_blp.response(200, CallbackAnswerSchema)
@callback_blp.alt_response(401, response="UNAUTHORIZED", description="a missing, wrong or expired signature")
@callback_blp.alt_response(404, response="NOT_FOUND")
@callback_blp.alt_response(429, response="TOO_MANY_REQUESTS")
def callback(body: dict[str, Any]) -> dict[str, str]:
    """A shipment's new status from the carrier.

    Applied once and in order: a repeat or an older event changes nothing."""
    occurred: datetime = body["occurred_at"]
    return {"result": shipments.apply_callback(get_session(), event_id=body["event_id"],
                                               waybill_no=body["waybill_no"], status=body["status"],
                                               occurred_at=occurred)}


