"""Paying a dossier's fee online through the gateway, and the gateway's confirmation (IPN).

Only the IPN changes a payment: it is verified (signature, order, amount, state) and applied in one
transaction under a row lock, so two simultaneous callbacks confirm a payment once. Every callback
is recorded with the answer it got.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services import audit, idempotency
from services.actors import Actor
from services.calendar import WorkingCalendar
from services.clock import clock
from services.db import rowcount, transaction
from services.dossiers.access import get_own
from services.dossiers.lifecycle import DOSSIER, SYSTEM_ACTOR, apply
from services.dossiers.rules import payment_status
from services.errors import Conflict, NotFound
from services.idempotency import IdempotentRequest
from services.models import Payment, PaymentCallback
from services.money import vnpay
from services.money.receipts import next_receipt
from services.notices import alerts
from services.pagination import Page, keyset_page
from services.settings import Settings
from vocab import FeeStatus, PaymentStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IpnAnswer:
    rsp_code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"RspCode": self.rsp_code, "Message": self.message}


def expire_if_due(payment: Payment) -> None:
    if payment.status == PaymentStatus.pending and payment.expires_at <= clock.now():
        payment.status = PaymentStatus.expired


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


def create(session: Session, actor: Actor, dossier_id: str, *, request: IdempotentRequest | None,
           settings: Settings) -> Payment:
    """A pending payment of the dossier's fee; while one is pending, that one comes back."""

    def work() -> Payment:
        dossier = get_own(session, actor, dossier_id, lock=True)
        if dossier.fee_vnd == 0:
            raise Conflict("this dossier has no fee")
        if payment_status(dossier) == FeeStatus.paid:
            raise Conflict("this dossier is paid")
        if not DOSSIER.allows(dossier.status, "pay"):  # the fee checks above give their own messages
            raise Conflict(f"a dossier that is {dossier.status} is not paid online")
        pending = session.scalars(select(Payment).where(Payment.dossier_id == dossier.id,
                                                        Payment.status == PaymentStatus.pending)).all()
        for payment in pending:
            expire_if_due(payment)
        current = next((p for p in pending if p.status == PaymentStatus.pending), None)
        if current is None:
            now = clock.now()
            current = Payment(dossier=dossier, payer_id=actor.user_id, amount_vnd=dossier.fee_vnd,
                              status=PaymentStatus.pending, created_at=now,
                              expires_at=now + timedelta(minutes=settings.payment_ttl_minutes))
            session.add(current)
            session.flush()
        return current

    with transaction(session):
        return idempotency.run(session, request, work, lambda payment_id: _own(session, actor, payment_id))


def _own(session: Session, actor: Actor, payment_id: str) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None or payment.payer_id != actor.user_id:
        raise NotFound("payment not found")
    return payment


def get(session: Session, actor: Actor, payment_id: str) -> Payment:
    with transaction(session):
        payment = _own(session, actor, payment_id)
        expire_if_due(payment)
        return payment


def _next_receipt(session: Session, payment: Payment) -> str:
    """The same gap-free series as receipts at the desk (services.money.receipts)."""
    return next_receipt(session, payment.dossier.agency, clock.now())


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
    if payment.status in (PaymentStatus.succeeded, PaymentStatus.failed, PaymentStatus.cancelled):
        return IpnAnswer("02", "Order already confirmed"), payment.id, payment.status
    late = payment.status == PaymentStatus.expired or payment.expires_at <= clock.now()
    payment.gateway_txn_no = params.get("vnp_TransactionNo")
    payment.bank_code = params.get("vnp_BankCode")
    payment.response_code = params.get("vnp_ResponseCode")
    paid = params.get("vnp_ResponseCode") == "00" and params.get("vnp_TransactionStatus", "00") == "00"
    if paid:
        payment.status, payment.paid_at = PaymentStatus.succeeded, clock.now()
        payment.receipt_no = _next_receipt(session, payment)
        if payment.dossier.paid_at is None:
            apply(session, payment.dossier, "record_payment", SYSTEM_ACTOR, calendar=calendar,
                  note=f"Đã thanh toán {vnpay.format_vnd(payment.amount_vnd)}, biên lai {payment.receipt_no}",
                  payment=payment)  # the payment.succeeded event's details
            note = "late success honoured" if late else "succeeded"
        else:  # another payment already paid this fee: this money goes back (admins list and count it)
            payment.refund_due = True
            note = "paid twice: refund due"
            audit.record(session, SYSTEM_ACTOR, "payment.refund_due", "payment", payment.id,
                         {"dossier": payment.dossier.code, "amount_vnd": payment.amount_vnd,
                          "receipt_no": payment.receipt_no})
        if late:
            log.warning("late payment honoured", extra={"payment_id": payment.id, "refund_due": payment.refund_due})
    else:
        payment.status = (PaymentStatus.cancelled if params.get("vnp_ResponseCode") == "24"
                          else PaymentStatus.failed)
        note = payment.status
    alerts.payment_result(session, payment)
    return IpnAnswer("00", "Confirm Success"), payment.id, note


def ipn(session: Session, params: dict[str, str], *, settings: Settings, calendar: WorkingCalendar) -> IpnAnswer:
    """The gateway's callback: verdict and effect in one transaction, the callback recorded with it.
    An unsigned one is answered 97 and only logged: a flood of forgeries must not fill a table."""
    if not vnpay.verify(params, settings.vnpay_hash_secret):
        log.warning("IPN with a bad signature", extra={"txn_ref": str(params.get("vnp_TxnRef", ""))[:40]})
        return IpnAnswer("97", "Invalid signature")
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


def refunds_due(session: Session, *, after: Sequence[Any] | None = None, limit: int = 20) -> Page[Payment]:
    """Payments whose money must go back (a fee paid twice), newest first."""
    stmt = select(Payment).where(Payment.refund_due.is_(True))
    return keyset_page(session, stmt, [Payment.paid_at, Payment.id], lambda p: (p.paid_at.isoformat(), p.id),
                       after=after, limit=limit, descending=True)


def expire_stale(session: Session) -> int:
    """The periodic sweep: pending payments past their expiry become expired."""
    with transaction(session):
        result = session.execute(update(Payment).where(Payment.status == PaymentStatus.pending,
                                                       Payment.expires_at <= clock.now())
                                 .values(status=PaymentStatus.expired))
        return rowcount(result)
