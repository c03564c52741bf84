"""Paying a dossier's fee online through the gateway, and the gateway's confirmation (IPN).

Only the IPN changes a payment: it is verified (signature, order, amount, state) and applied in one
transaction under a row lock, so two simultaneous callbacks confirm a payment once. Every callback
is recorded with the answer it got.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services import alerts, idempotency, vnpay
from services.calendar import TZ, WorkingCalendar
from services.clock import clock
from services.counters import next_number
from services.db import transaction
from services.dossier_actions import SYSTEM_ACTOR, Actor, apply, payment_status
from services.dossiers import get_own
from services.errors import Conflict, NotFound
from services.idempotency import IdempotentRequest, Replay
from services.models import Payment, PaymentCallback, ReceiptCounter
from services.settings import Settings

log = logging.getLogger(__name__)
PAYABLE = frozenset({"submitted", "received", "in_progress", "supplement_requested", "approved"})


@dataclass(frozen=True)
class IpnAnswer:
    rsp_code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"RspCode": self.rsp_code, "Message": self.message}


def expire_if_due(payment: Payment) -> None:
    if payment.status == "pending" and payment.expires_at <= clock.now():
        payment.status = "expired"


def payment_url(payment: Payment, settings: Settings, *, client_ip: str, locale: str) -> str:
    params = {
        "vnp_Version": vnpay.VERSION, "vnp_Command": "pay", "vnp_TmnCode": settings.vnpay_tmn_code,
        "vnp_Amount": str(payment.amount_vnd * 100), "vnp_CurrCode": "VND", "vnp_TxnRef": payment.id,
        "vnp_OrderInfo": f"Thanh toan phi ho so {payment.dossier.code}", "vnp_OrderType": "other",
        "vnp_Locale": "en" if locale == "en" else "vn", "vnp_ReturnUrl": settings.vnpay_return_url,
        "vnp_IpAddr": client_ip or "127.0.0.1", "vnp_CreateDate": vnpay.timestamp(payment.created_at),
        "vnp_ExpireDate": vnpay.timestamp(payment.expires_at),
    }
    return f"{settings.vnpay_url}?{vnpay.query(vnpay.signed(params, settings.vnpay_hash_secret))}"


def create(session: Session, dossier_id: str, actor: Actor, *, request: IdempotentRequest | None,
           render: Any, settings: Settings) -> Replay:
    """A pending payment of the dossier's fee; while one is pending, that one comes back."""

    def work() -> dict[str, Any]:
        dossier = get_own(session, dossier_id, actor, lock=True)
        if dossier.fee_vnd == 0:
            raise Conflict("this dossier has no fee")
        if payment_status(dossier) == "paid":
            raise Conflict("this dossier is paid")
        if dossier.status not in PAYABLE:
            raise Conflict(f"a dossier that is {dossier.status} is not paid online")
        pending = session.scalars(select(Payment).where(Payment.dossier_id == dossier.id,
                                                        Payment.status == "pending")).all()
        for payment in pending:
            expire_if_due(payment)
        current = next((p for p in pending if p.status == "pending"), None)
        if current is None:
            now = clock.now()
            current = Payment(dossier=dossier, payer_id=actor.user_id, amount_vnd=dossier.fee_vnd, status="pending",
                              created_at=now, expires_at=now + timedelta(minutes=settings.payment_ttl_minutes))
            session.add(current)
            session.flush()
        return render(current)

    with transaction(session):
        return idempotency.run(session, request, work, status=201)


def get(session: Session, payment_id: str, actor: Actor) -> Payment:
    with transaction(session):
        payment = session.get(Payment, payment_id)
        if payment is None or payment.payer_id != actor.user_id:
            raise NotFound("payment not found")
        expire_if_due(payment)
        return payment


def _next_receipt(session: Session, payment: Payment) -> str:
    """BL-{agency}-{year}-{NNNNNN}: gap-free per agency and local year (services.counters)."""
    year = clock.now().astimezone(TZ).year
    agency = payment.dossier.agency
    return f"BL-{agency.code}-{year}-{next_number(session, ReceiptCounter, agency_id=agency.id, year=year):06d}"


def _verdict(session: Session, params: dict[str, str], settings: Settings,
             calendar: WorkingCalendar) -> tuple[IpnAnswer, str | None, str]:
    if not vnpay.verify(params, settings.vnpay_hash_secret):
        return IpnAnswer("97", "Invalid signature"), None, ""
    payment = session.scalar(select(Payment).where(Payment.id == params.get("vnp_TxnRef", ""))
                             .with_for_update(of=Payment))
    if payment is None:
        return IpnAnswer("01", "Order not found"), None, ""
    if params.get("vnp_Amount") != str(payment.amount_vnd * 100):
        return IpnAnswer("04", "Invalid amount"), payment.id, f"expected {payment.amount_vnd * 100}"
    if payment.status in ("succeeded", "failed", "cancelled"):
        return IpnAnswer("02", "Order already confirmed"), payment.id, payment.status
    late = payment.status == "expired" or payment.expires_at <= clock.now()
    payment.gateway_txn_no = params.get("vnp_TransactionNo")
    payment.bank_code = params.get("vnp_BankCode")
    payment.response_code = params.get("vnp_ResponseCode")
    paid = params.get("vnp_ResponseCode") == "00" and params.get("vnp_TransactionStatus", "00") == "00"
    if paid:
        payment.status, payment.paid_at = "succeeded", clock.now()
        payment.receipt_no = _next_receipt(session, payment)
        if payment.dossier.paid_at is None:
            apply(session, payment.dossier, "record_payment", SYSTEM_ACTOR, calendar=calendar,
                  note=f"Đã thanh toán {vnpay.format_vnd(payment.amount_vnd)}, biên lai {payment.receipt_no}")
        if late:
            log.warning("late payment honoured", extra={"payment_id": payment.id})
        note = "late success honoured" if late else "succeeded"
    else:
        payment.status = "cancelled" if params.get("vnp_ResponseCode") == "24" else "failed"
        note = payment.status
    alerts.payment_result(session, payment)
    return IpnAnswer("00", "Confirm Success"), payment.id, note


def ipn(session: Session, params: dict[str, str], *, settings: Settings, calendar: WorkingCalendar) -> IpnAnswer:
    """The gateway's callback: verdict and effect in one transaction, the callback recorded with it."""
    try:
        with transaction(session):
            answer, payment_id, note = _verdict(session, params, settings, calendar)
            session.add(PaymentCallback(payment_id=payment_id, params=params, rsp_code=answer.rsp_code, note=note))
            return answer
    except Exception:
        log.exception("IPN failed")
        with transaction(session):
            session.add(PaymentCallback(payment_id=None, params=params, rsp_code="99", note="error"))
        return IpnAnswer("99", "Unknown error")


def expire_stale(session: Session) -> int:
    """The periodic sweep: pending payments past their expiry become expired."""
    with transaction(session):
        result = session.execute(update(Payment).where(Payment.status == "pending",
                                                       Payment.expires_at <= clock.now()).values(status="expired"))
        return result.rowcount or 0
