"""Dossiers and what hangs off them: timeline, attachments, stored files, codes, bundles, idempotency."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.db import Base, IdMixin, StrEnumColumn, utcnow
from services.models.catalog import Agency, Procedure, ProcedureGroup
from services.models.identity import User
from vocab import AttachmentKind, Channel, DossierStatus, PaidVia

if TYPE_CHECKING:
    from services.models.payment import Payment


class DossierBundle(IdMixin, Base):
    """An interconnected (liên thông) application: one form, one dossier per member procedure."""

    __tablename__ = "dossier_bundles"

    group_id: Mapped[str] = mapped_column(ForeignKey("procedure_groups.id"))
    applicant_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    form: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[ProcedureGroup] = relationship(lazy="joined")
    dossiers: Mapped[list[Dossier]] = relationship(back_populates="bundle", order_by="Dossier.bundle_position",
                                                   lazy="raise_on_sql")


OPEN = text("status NOT IN ('rejected', 'completed', 'withdrawn')")


class Dossier(IdMixin, Base):
    __tablename__ = "dossiers"
    __table_args__ = (
        # The citizen's list, newest first, optionally by status.
        Index("ix_dossiers_applicant_created", "applicant_id", "created_at", "id"),
        Index("ix_dossiers_applicant_status_created", "applicant_id", "status", "created_at", "id"),
        # The officials' queue, oldest due first, per agency or province-wide, optionally by status.
        Index("ix_dossiers_agency_queue", "agency_id", "queue_at", "id"),
        Index("ix_dossiers_agency_status_queue", "agency_id", "status", "queue_at", "id"),
        Index("ix_dossiers_queue", "queue_at", "id"),
        Index("ix_dossiers_status_queue", "status", "queue_at", "id"),
        # Statistics: each figure counts dossiers by the time of one event, per agency.
        Index("ix_dossiers_agency_received", "agency_id", "received_at"),
        Index("ix_dossiers_agency_submitted", "agency_id", "submitted_at"),
        Index("ix_dossiers_agency_closed", "agency_id", "closed_at"),
        Index("ix_dossiers_agency_rated", "agency_id", "rated_at"),
        Index("ix_dossiers_agency_open_due", "agency_id", "due_at"),
        # A receiving centre's queue (what it received and forwarded) and its statistics.
        Index("ix_dossiers_centre_queue", "receiving_centre_id", "queue_at", "id"),
        Index("ix_dossiers_centre_status_queue", "receiving_centre_id", "status", "queue_at", "id"),
        Index("ix_dossiers_centre_received", "receiving_centre_id", "received_at"),
        # The overdue filter reads open dossiers only: closed ones keep their queue_at forever.
        Index("ix_dossiers_agency_open_queue", "agency_id", "queue_at", "id",
              postgresql_where=OPEN, sqlite_where=OPEN),
        Index("ix_dossiers_centre_open_queue", "receiving_centre_id", "queue_at", "id",
              postgresql_where=OPEN, sqlite_where=OPEN),
    )

    code: Mapped[str | None] = mapped_column(String(60), unique=True)
    procedure_id: Mapped[str] = mapped_column(ForeignKey("procedures.id"))
    # The competent agency (it decides), and the one-stop centre that received it (None: filed online).
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    receiving_centre_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"))
    channel: Mapped[Channel] = mapped_column(StrEnumColumn(Channel, 8), default=Channel.online,
                                             server_default=Channel.online.value)
    return_method: Mapped[Channel] = mapped_column(StrEnumColumn(Channel, 8), default=Channel.online,
                                                   server_default=Channel.online.value)
    # The procedure's variant chosen at receipt (e.g. `verification`), with its own processing time.
    variant: Mapped[str | None] = mapped_column(String(40))
    applicant_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    bundle_id: Mapped[str | None] = mapped_column(ForeignKey("dossier_bundles.id"), index=True)
    bundle_position: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[DossierStatus] = mapped_column(StrEnumColumn(DossierStatus, 24), default=DossierStatus.draft)
    form: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The fee as it stood at submission (the procedure's fee may change later).
    fee_vnd: Mapped[int] = mapped_column(Integer, default=0)
    paid_at: Mapped[datetime | None]
    # Where the fee was paid (gateway or counter): the statistics count them apart.
    paid_via: Mapped[PaidVia | None] = mapped_column(StrEnumColumn(PaidVia, 8))
    # The applicant's phone and address as given at the desk (a walk-in or postal filing).
    applicant_contact: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When every mandatory paper was held as a file (uploaded online, or scanned at the desk).
    digitised_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    # The statutory appointment: moved by supplement pauses only (NULL while the clock is stopped).
    due_at: Mapped[datetime | None]
    # The new date promised in an apology letter; never moves `due_at`.
    appointment_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # When the dossier became final (rejected, withdrawn or completed).
    closed_at: Mapped[datetime | None]
    # While supplement_requested: the status to return to and the working days left on the clock.
    resume_status: Mapped[DossierStatus | None] = mapped_column(StrEnumColumn(DossierStatus, 24))
    remaining_days: Mapped[int | None] = mapped_column(Integer)
    remaining_minutes: Mapped[int | None] = mapped_column(Integer)  # procedures counted in hours
    supplement_count: Mapped[int] = mapped_column(Integer, default=0)
    # Working days spent in supplement pauses, and from receipt to result without them (on completion).
    paused_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    processing_days: Mapped[int | None] = mapped_column(Integer)
    # Sort key of the officials' queue: the due time, else when the dossier reached its status.
    queue_at: Mapped[datetime | None]
    rating_score: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    procedure: Mapped[Procedure] = relationship(lazy="joined", innerjoin=True)
    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True, foreign_keys=[agency_id])
    receiving_centre: Mapped[Agency | None] = relationship(lazy="raise_on_sql", foreign_keys=[receiving_centre_id])
    applicant: Mapped[User] = relationship(lazy="raise_on_sql")
    bundle: Mapped[DossierBundle | None] = relationship(back_populates="dossiers", lazy="raise_on_sql")
    timeline: Mapped[list[TimelineEntry]] = relationship(order_by="TimelineEntry.seq", lazy="selectin",
                                                         cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.created_at", lazy="selectin",
                                                         cascade="all, delete-orphan")
    payments: Mapped[list[Payment]] = relationship(lazy="raise_on_sql", viewonly=True, order_by="Payment.created_at")


class TimelineEntry(IdMixin, Base):
    """One status change or notable act, append-only: nothing updates or deletes a row."""

    __tablename__ = "dossier_timeline"
    __table_args__ = (UniqueConstraint("dossier_id", "seq"),)

    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[DossierStatus | None] = mapped_column(StrEnumColumn(DossierStatus, 24))
    status: Mapped[DossierStatus] = mapped_column(StrEnumColumn(DossierStatus, 24))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    new_due_at: Mapped[datetime | None]


class StoredFile(Base):
    """A blob in storage, by content hash: the same bytes uploaded twice are stored once."""

    __tablename__ = "stored_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


FROM_WALLET = text("wallet_item_id IS NOT NULL")


class Attachment(IdMixin, Base):
    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_dossier", "dossier_id", "kind"),
                      # The collector asks whether any attachment still refers to a stored file.
                      Index("ix_attachments_sha256", "sha256"),
                      # The reuse figure reads the few papers taken from a wallet (services.dossiers.stats).
                      Index("ix_attachments_from_wallet", "dossier_id", postgresql_where=FROM_WALLET,
                            sqlite_where=FROM_WALLET))

    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    kind: Mapped[AttachmentKind] = mapped_column(StrEnumColumn(AttachmentKind, 10), default=AttachmentKind.document)
    document_type: Mapped[str] = mapped_column(String(60))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The wallet item it was taken from (no bytes moved); kept after the item is deleted, for reuse_rate.
    wallet_item_id: Mapped[str | None] = mapped_column(String(36))
    # A scan the desk made of a paper brought in person (the citizen's uploads are files already).
    digitised: Mapped[bool] = mapped_column(default=False, server_default=false())

    blob: Mapped[StoredFile] = relationship(lazy="joined", innerjoin=True)

    @property
    def content_type(self) -> str:
        return self.blob.content_type

    @property
    def size(self) -> int:
        return self.blob.size


class DossierCodeCounter(Base):
    """The last sequence number given out per agency and local day; rolls back with its transaction."""

    __tablename__ = "dossier_code_counters"

    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyKey(IdMixin, Base):
    """A request made with an Idempotency-Key, and the response to replay for it."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
