"""The mock postal carrier (bưu chính công ích), a stand-in like the mock bank: it creates waybills and
sends signed status callbacks, as the real carrier's API does. Mounted unless
SMARTQN_POSTAL_MOCK_ENABLED=false; kept out of the OpenAPI document.

`POST /mock-carrier/waybills` `{reference, kind, address, dossier_code, callback_url}` → 201
`{waybill_no, fee_vnd}` (the same reference again → the same waybill); `POST
/mock-carrier/waybills/{no}/events` `{status, occurred_at?, event_id?}` sends that status to the
callback URL, signed with SMARTQN_POSTAL_HMAC_SECRET (server to server), and answers what it got back.
`signed_callback` builds the same request for tests that post it themselves.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from api.context import settings
from services.clock import clock
from services.errors import NotFound, ValidationFailed
from services.postal.carrier import SIGNATURE_HEADER, sign
from vocab import ShipmentStatus

blp = Blueprint("mock_carrier", __name__, url_prefix="/mock-carrier")
KEY = "mock_carrier"
FEES = {"pickup": 22_000, "return": 22_000}  # the province's flat postage in the scheme (illustrative)


class Waybills:
    """The carrier's own book of waybills, in memory (one development process)."""

    def __init__(self) -> None:
        self.by_no: dict[str, dict[str, Any]] = {}
        self.by_reference: dict[str, str] = {}
        self.lock = threading.Lock()

    def create(self, order: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            known = self.by_reference.get(order["reference"])
            if known is None:
                known = f"EB{secrets.randbelow(10**9):09d}VN"
                self.by_no[known] = {**order, "waybill_no": known, "fee_vnd": FEES.get(order.get("kind", ""), 22_000)}
                self.by_reference[order["reference"]] = known
            return self.by_no[known]


def book() -> Waybills:
    return current_app.extensions.setdefault(KEY, Waybills())


def signed_callback(secret: str, waybill_no: str, status: str, *, occurred_at: datetime | None = None,
                    event_id: str | None = None, at: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a carrier status callback, signed as the carrier signs it."""
    body = json.dumps({"event_id": event_id or secrets.token_hex(8), "waybill_no": waybill_no, "status": status,
                       "occurred_at": (occurred_at or clock.now()).isoformat()}).encode()
    moment = int(clock.now().timestamp()) if at is None else at
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret, moment)}


@blp.post("/waybills")
def create_waybill() -> Any:
    order = request.get_json(silent=True) or {}
    if not isinstance(order.get("reference"), str) or not isinstance(order.get("callback_url"), str):
        raise ValidationFailed("incomplete order", errors={"reference": ["Required."], "callback_url": ["Required."]})
    waybill = book().create(order)
    return jsonify({"waybill_no": waybill["waybill_no"], "fee_vnd": waybill["fee_vnd"]}), 201


@blp.post("/waybills/<string:waybill_no>/events")
def send_event(waybill_no: str) -> Any:
    waybill = book().by_no.get(waybill_no)
    if waybill is None:
        raise NotFound("no such waybill")
    event = request.get_json(silent=True) or {}
    status = event.get("status")
    if status not in tuple(ShipmentStatus):
        raise ValidationFailed("unknown status", errors={"status": [f"One of: {', '.join(ShipmentStatus)}."]})
    occurred = datetime.fromisoformat(event["occurred_at"]) if event.get("occurred_at") else None
    body, headers = signed_callback(settings().postal_hmac_secret, waybill_no, status, occurred_at=occurred,
                                    event_id=event.get("event_id"))
    outgoing = urllib.request.Request(waybill["callback_url"], data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(outgoing, timeout=10) as response:
            return jsonify({"status_code": response.status, "answer": json.loads(response.read() or b"{}")})
    except urllib.error.HTTPError as exc:
        return jsonify({"status_code": exc.code, "answer": json.loads(exc.read() or b"{}")})
