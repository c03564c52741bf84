"""Field reports (phản ánh hiện trường): categories, reports, their photos, followers and timeline."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.db import Base, IdMixin, StrEnumColumn, utcnow
from services.models.catalog import Agency
from vocab import ReportPhotoKind, ReportStatus

# Open statuses, spelled for partial indexes (services.reports.table.OPEN is the same set).
OPEN_SQL = text("status IN ('new', 'accepted', 'in_progress', 'reopened')")


class ReportCategory(IdMixin, Base):
    """What can be reported, who fixes it and how fast: data an admin edits."""

    __tablename__ = "report_categories"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    # The agency that handles it; with `by_ward`, the commune serving the ward the location falls in
    # handles it instead (this agency then takes what falls in no known ward).
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    by_ward: Mapped[bool] = mapped_column(default=False, server_default=false())
    sla_days: Mapped[int] = mapped_column(Integer)  # working days; an urgent report gets one
    photo_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)


class Report(IdMixin, Base):
    __tablename__ = "reports"
    __table_args__ = (
        # The agency queue, oldest due first, optionally by status; the overdue filter reads open ones.
        Index("ix_reports_agency_due", "agency_id", "due_at", "id"),
        Index("ix_reports_agency_status_due", "agency_id", "status", "due_at", "id"),
        Index("ix_reports_agency_open_due", "agency_id", "due_at", "id",
              postgresql_where=OPEN_SQL, sqlite_where=OPEN_SQL),
        Index("ix_reports_due", "due_at", "id"),
        # The public map and the duplicate search: the grid cell first (services.reports.geo).
        Index("ix_reports_cell", "cell", "status"),
        Index("ix_reports_category_cell_open", "category_id", "cell",
              postgresql_where=OPEN_SQL, sqlite_where=OPEN_SQL),
        # The reporter's own list, newest first.
        Index("ix_reports_reporter_created", "reporter_id", "created_at", "id"),
        # Statistics by the time of each event.
        Index("ix_reports_agency_created", "agency_id", "created_at"),
    )

    code: Mapped[str] = mapped_column(String(40), unique=True)
    category_id: Mapped[str] = mapped_column(ForeignKey("report_categories.id"))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    # None for a report filed through Open311 by a partner system (its key is named instead).
    reporter_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    open311_key_id: Mapped[str | None] = mapped_column(ForeignKey("open311_keys.id"))
    description: Mapped[str] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    cell: Mapped[int] = mapped_column(Integer)
    ward_code: Mapped[str | None] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(300))
    media_url: Mapped[str | None] = mapped_column(String(500))  # an Open311 client's picture, by URL
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ReportStatus] = mapped_column(StrEnumColumn(ReportStatus, 16), default=ReportStatus.new)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    # When it last became resolved or rejected; on-time means resolved_at <= due_at.
    closed_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_score: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    category: Mapped[ReportCategory] = relationship(lazy="joined", innerjoin=True)
    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    photos: Mapped[list[ReportPhoto]] = relationship(order_by="ReportPhoto.created_at", lazy="selectin",
                                                     cascade="all, delete-orphan")
    timeline: Mapped[list[ReportEntry]] = relationship(order_by="ReportEntry.seq", lazy="selectin",
                                                       cascade="all, delete-orphan")


class ReportPhoto(IdMixin, Base):
    """A photo as shown: re-encoded without its EXIF metadata (location included); the upload itself is
    not kept."""

    __tablename__ = "report_photos"
    __table_args__ = (Index("ix_report_photos_report", "report_id"),)

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    kind: Mapped[ReportPhotoKind] = mapped_column(StrEnumColumn(ReportPhotoKind, 10))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    content_type: Mapped[str] = mapped_column(String(30))
    uploaded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportFollower(Base):
    """Someone who would have filed the same report and follows this one instead."""

    __tablename__ = "report_followers"
    __table_args__ = (Index("ix_report_followers_user", "user_id"),)

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportEntry(IdMixin, Base):
    """One move of a report, append-only: its timeline."""

    __tablename__ = "report_timeline"
    __table_args__ = (UniqueConstraint("report_id", "seq"),)

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[ReportStatus | None] = mapped_column(StrEnumColumn(ReportStatus, 16))
    status: Mapped[ReportStatus] = mapped_column(StrEnumColumn(ReportStatus, 16))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    agency_code: Mapped[str | None] = mapped_column(String(40))  # where it went, on a transfer
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


class ReportCodeCounter(Base):
    """The last report number given out per local day (PA-yyMMdd-NNNNN)."""

    __tablename__ = "report_code_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class ReportCell(Base):
    """A grid cell of the public map (services.reports.geo) and its revision, a new random number in the
    transaction of every change that shows on a pin there (random, not counted: a rolled-back or
    restored counter would repeat a number some app server has cached other pins under)."""

    __tablename__ = "report_cells"

    cell: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger)


class Open311Key(IdMixin, Base):
    """An api_key an admin issued to a partner system for Open311 POSTs; only its hash is kept."""

    __tablename__ = "open311_keys"

    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
