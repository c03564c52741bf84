"""The one-stop desk's records: fees paid at the counter, the decree's documents (forms 01-04) and
postal shipments with the carrier's status events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.db import Base, IdMixin, StrEnumColumn, utcnow
from services.models.dossier import Dossier
from vocab import DeskForm, DeskPaymentMethod, ShipmentKind, ShipmentStatus


class DeskPayment(IdMixin, Base):
    """A fee paid at the counter (cash, card or transfer), with its receipt from the same gap-free
    counter as online receipts."""

    __tablename__ = "desk_payments"

    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    amount_vnd: Mapped[int] = mapped_column(Integer)
    method: Mapped[DeskPaymentMethod] = mapped_column(StrEnumColumn(DeskPaymentMethod, 10))
    receipt_no: Mapped[str] = mapped_column(String(60), unique=True)
    # The counter's own reference (a POS slip, a bank transfer), as the official typed it.
    reference: Mapped[str | None] = mapped_column(String(60))
    recorded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentCounter(Base):
    """The last number given out per issuing agency, desk form and local year; gap-free like receipts (and,
    like them, one row per agency: two agencies' receipts never wait for each other's counter)."""

    __tablename__ = "document_counters"

    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    form_no: Mapped[str] = mapped_column(String(2), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class DeskDocument(IdMixin, Base):
    """One desk document as issued: a PDF stored by hash, made in the transaction of its action."""

    __tablename__ = "desk_documents"
    __table_args__ = (Index("ix_desk_documents_dossier", "dossier_id", "issued_at"),
                      UniqueConstraint("agency_id", "form_no", "number"))

    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))  # the issuer, whose series numbers it
    form_no: Mapped[DeskForm] = mapped_column(StrEnumColumn(DeskForm, 2))
    number: Mapped[str] = mapped_column(String(30))  # e.g. 000123/2026/01
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    # Unguessable (128 bits): the public verification page answers it without personal data.
    verify_code: Mapped[str] = mapped_column(String(40), unique=True)
    agency_name: Mapped[str] = mapped_column(String(200))

    dossier: Mapped[Dossier] = relationship(lazy="raise_on_sql")


class Shipment(IdMixin, Base):
    """A postal pickup of the papers or return of the result, through the carrier (bưu chính công ích)."""

    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_dossier", "dossier_id", "created_at"),
                      # The stuck-shipment listing: open shipments by the time of their last change.
                      Index("ix_shipments_status_changed", "status", "status_changed_at", "id"))

    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    kind: Mapped[ShipmentKind] = mapped_column(StrEnumColumn(ShipmentKind, 8))
    status: Mapped[ShipmentStatus] = mapped_column(StrEnumColumn(ShipmentStatus, 12), default=ShipmentStatus.created)
    waybill_no: Mapped[str] = mapped_column(String(40), unique=True)
    fee_vnd: Mapped[int] = mapped_column(Integer, default=0)
    address: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The carrier's time of the event that set the status: an older event arriving later changes nothing.
    status_event_at: Mapped[datetime] = mapped_column(default=utcnow)

    dossier: Mapped[Dossier] = relationship(lazy="raise_on_sql")


class ShipmentEvent(IdMixin, Base):
    """One carrier callback as accepted (a repeat of its event id is ignored)."""

    __tablename__ = "shipment_events"
    __table_args__ = (UniqueConstraint("shipment_id", "event_id"),)

    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[ShipmentStatus] = mapped_column(StrEnumColumn(ShipmentStatus, 12))
    event_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied: Mapped[bool] = mapped_column(default=False)
