"""Online fee payments, their receipts, and every gateway callback received (for audit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.db import Base, IdMixin, StrEnumColumn, utcnow
from services.models.dossier import Dossier
from vocab import PaymentStatus


class Payment(IdMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_dossier_status", "dossier_id", "status"),
                      Index("ix_payments_pending_expiry", "status", "expires_at"),
                      Index("ix_payments_refund_due", "refund_due", "paid_at", "id"))

    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    payer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    # The fee as the dossier carried it when the payment was created.
    amount_vnd: Mapped[int] = mapped_column(Integer)
    # pending → succeeded | failed | expired | cancelled
    status: Mapped[PaymentStatus] = mapped_column(StrEnumColumn(PaymentStatus, 12), default=PaymentStatus.pending)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    receipt_no: Mapped[str | None] = mapped_column(String(60), unique=True)
    gateway: Mapped[str] = mapped_column(String(20), default="vnpay")
    gateway_txn_no: Mapped[str | None] = mapped_column(String(40))
    bank_code: Mapped[str | None] = mapped_column(String(20))
    response_code: Mapped[str | None] = mapped_column(String(4))
    # A success for a fee already paid (a late IPN of an expired payment after a newer one succeeded):
    # the money moved twice, so this one is owed back to the payer.
    refund_due: Mapped[bool] = mapped_column(default=False, server_default=false())

    dossier: Mapped[Dossier] = relationship(lazy="joined", innerjoin=True)


class ReceiptCounter(Base):
    """The last receipt number per agency and year; gap-free like dossier codes."""

    __tablename__ = "receipt_counters"

    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class PaymentCallback(IdMixin, Base):
    """One IPN as received, with our answer: the audit trail of what the gateway told us."""

    __tablename__ = "payment_callbacks"

    payment_id: Mapped[str | None] = mapped_column(String(36), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    rsp_code: Mapped[str] = mapped_column(String(4))
    note: Mapped[str] = mapped_column(String(200), default="")
