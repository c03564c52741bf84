"""The public catalog: agencies, procedures, their required documents and interconnected groups."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Enum, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.db import Base, IdMixin, StrEnumColumn, utcnow
from vocab import AgencyLevel, OnlineLevel, ProcedureLevel


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK, so adding a value is a small migration on both databases.
    return Enum(cls, name=name, native_enum=False, values_callable=lambda e: [m.value for m in e],
                length=20, create_constraint=True)


class Agency(IdMixin, Base):
    __tablename__ = "agencies"

    # The electronic identifier (mã định danh, Decision 20/2020/QĐ-TTg), e.g. 000.00.19.H15.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[AgencyLevel] = mapped_column(_enum(AgencyLevel, "agency_level"))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    # A one-stop centre (bộ phận một cửa) receives any procedure of the province (Decree 118/2025).
    is_centre: Mapped[bool] = mapped_column(default=False, server_default=false())
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    parent: Mapped[Agency | None] = relationship(remote_side="Agency.id", lazy="joined", innerjoin=False)
    wards: Mapped[list[AgencyWard]] = relationship(order_by="AgencyWard.ward_code", cascade="all, delete-orphan",
                                                   lazy="raise_on_sql")

    @property
    def ward_codes(self) -> list[str]:
        return [w.ward_code for w in self.wards]


class AgencyWard(Base):
    """The administrative units (wards, communes) a commune's People's Committee serves, by national code."""

    __tablename__ = "agency_wards"

    ward_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)


class Procedure(IdMixin, Base):
    __tablename__ = "procedures"
    __table_args__ = (
        CheckConstraint("processing_days >= 0", name="processing_days_non_negative"),
        CheckConstraint("fee_vnd >= 0", name="fee_non_negative"),
        CheckConstraint("min_eid_level IN (1, 2)", name="eid_level_known"),
    )

    # The national procedure code (mã thủ tục hành chính), e.g. 1.001193.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    # The English name where the catalog has one (Accept-Language: en); `name` otherwise.
    name_en: Mapped[str | None] = mapped_column(String(300))
    # The name folded for diacritic-insensitive search (services.text.fold).
    search_name: Mapped[str] = mapped_column(String(300))
    field: Mapped[str] = mapped_column(String(120), index=True)
    # The default competent agency (kept for older apps); `competent` lists the others.
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    level: Mapped[ProcedureLevel] = mapped_column(StrEnumColumn(ProcedureLevel, 10), default=ProcedureLevel.province,
                                                  server_default=ProcedureLevel.province.value)
    # True: every active agency of the procedure's level is competent (commune procedures); else the list.
    by_level: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Working days; 0.5 is four working hours. Variants (e.g. with verification) have their own.
    processing_days: Mapped[float] = mapped_column(Float)
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The base amount (lists show it); `fee` says how the amount is computed from the form.
    fee_vnd: Mapped[int] = mapped_column(Integer, default=0)
    fee: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # After this local time a dossier counts from the next working day (None: the settings' cut-off).
    cutoff_time: Mapped[str | None] = mapped_column(String(5))
    online_level: Mapped[OnlineLevel] = mapped_column(_enum(OnlineLevel, "online_level"))
    min_eid_level: Mapped[int] = mapped_column(Integer, default=1)
    # Deferred: dossier reads join the procedure for its code and name, not for these.
    description: Mapped[str] = mapped_column(Text, default="", deferred=True)
    form_schema: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    competent: Mapped[list[Agency]] = relationship(secondary="procedure_agencies", lazy="raise_on_sql",
                                                   order_by="Agency.code")
    required_documents: Mapped[list[RequiredDocument]] = relationship(
        back_populates="procedure", order_by="RequiredDocument.position", cascade="all, delete-orphan",
        lazy="raise_on_sql")

    @property
    def agency_code(self) -> str:
        return self.agency.code


class ProcedureAgency(Base):
    """An agency competent for a procedure beyond its level's (a sector's agencies, a chosen few)."""

    __tablename__ = "procedure_agencies"

    procedure_id: Mapped[str] = mapped_column(ForeignKey("procedures.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)


class RequiredDocument(IdMixin, Base):
    __tablename__ = "required_documents"
    __table_args__ = (UniqueConstraint("procedure_id", "type"),)

    procedure_id: Mapped[str] = mapped_column(ForeignKey("procedures.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(300))
    mandatory: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    procedure: Mapped[Procedure] = relationship(back_populates="required_documents", lazy="raise_on_sql")


class ProcedureGroup(IdMixin, Base):
    """An interconnected group (liên thông, Decree 63/2024/NĐ-CP): procedures done as one."""

    __tablename__ = "procedure_groups"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    # The one form the citizen fills for the whole group.
    form_schema: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)

    members: Mapped[list[ProcedureGroupMember]] = relationship(
        order_by="ProcedureGroupMember.position", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def procedure_codes(self) -> list[str]:
        return [member.procedure.code for member in self.members]


class ProcedureGroupMember(Base):
    __tablename__ = "procedure_group_members"

    group_id: Mapped[str] = mapped_column(ForeignKey("procedure_groups.id", ondelete="CASCADE"),
                                          primary_key=True)
    procedure_id: Mapped[str] = mapped_column(ForeignKey("procedures.id"), primary_key=True)
    # The order in which the steps happen; a later step waits for the earlier one's result.
    position: Mapped[int] = mapped_column(Integer)

    procedure: Mapped[Procedure] = relationship(lazy="joined", innerjoin=True)


class CatalogRevision(Base):
    """One row counting catalog changes: the catalog's ETags derive from it, so a 304 costs one read."""

    __tablename__ = "catalog_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
