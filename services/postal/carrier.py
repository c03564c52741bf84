"""The postal carrier behind one small interface: create a waybill; and the carrier's signed callbacks.

`HttpCarrier` speaks the carrier's JSON API (SMARTQN_POSTAL_CARRIER_URL; the mock carrier in
development, standins/mock_carrier.py). Callbacks carry `X-Postal-Signature: t=<unix seconds>,
v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the shared secret; a signature older than five minutes
is refused, so a captured callback cannot be replayed later (a repeat within the window is a repeat of
its event id, which changes nothing).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from services.errors import Unavailable

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Postal-Signature"
TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Waybill:
    waybill_no: str
    fee_vnd: int


class Carrier(Protocol):
    def create_waybill(self, *, reference: str, kind: str, address: dict[str, Any], dossier_code: str,
                       callback_url: str) -> Waybill: ...


class HttpCarrier:
    """The carrier's waybill API over HTTPS: POST {url}/waybills, our reference making a retry harmless."""

    def __init__(self, url: str, api_key: str, *, timeout: float = 10.0) -> None:
        self.url, self.api_key, self.timeout = url.rstrip("/"), api_key, timeout

    def create_waybill(self, *, reference: str, kind: str, address: dict[str, Any], dossier_code: str,
                       callback_url: str) -> Waybill:
        body = json.dumps({"reference": reference, "kind": kind, "address": address, "dossier_code": dossier_code,
                           "callback_url": callback_url}).encode()
        request = urllib.request.Request(f"{self.url}/waybills", data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
            return Waybill(str(answer["waybill_no"]), int(answer.get("fee_vnd", 0)))
        except (urllib.error.URLError, TimeoutError, ValueError, KeyError) as exc:
            log.warning("postal carrier unavailable", extra={"error": str(exc)[:200]})
            raise Unavailable("the postal carrier cannot be reached; try again shortly") from exc


def sign(body: bytes, secret: str, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def verify(body: bytes, header: str | None, secret: str, now: datetime) -> bool:
    """Whether a callback is signed with our secret, within the time window."""
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    try:
        at = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now.timestamp() - at) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(body, secret, at), f"t={at},v1={parts.get('v1', '')}")
