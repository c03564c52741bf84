"""People and sessions: citizens, staff roles (granted by CCCD), refresh tokens."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.db import Base, IdMixin, StrEnumColumn, utcnow
from services.models.catalog import Agency, _enum
from vocab import Gender, Role


class User(IdMixin, Base):
    __tablename__ = "users"

    cccd: Mapped[str] = mapped_column(String(12), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    date_of_birth: Mapped[date] = mapped_column(Date)
    gender: Mapped[Gender] = mapped_column(StrEnumColumn(Gender, 6))
    eid_level: Mapped[int] = mapped_column(Integer)
    # The provider's subject; kept so an adapter for the real VNeID can match on it.
    eid_subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How many of their notifications are unread, kept by services.notices.inbox in the transactions that
    # write or read them (the badge, the unread count): a count of the unread costs what the person left
    # unread, and an official notified of every submit of the agency may never open the inbox.
    unread_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StaffRole(Base):
    """A staff grant, keyed by CCCD so it can be made before the person first signs in."""

    __tablename__ = "staff_roles"

    cccd: Mapped[str] = mapped_column(String(12), primary_key=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "staff_role"))
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    granted_by: Mapped[str | None] = mapped_column(String(60))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency | None] = relationship(lazy="joined")


class UsedEidToken(Base):
    """An eID ID token already exchanged for a session, kept until it expires (one session per token)."""

    __tablename__ = "used_eid_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class RefreshToken(IdMixin, Base):
    """One opaque refresh token, stored as its SHA-256 only; rotation links tokens into a family."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family", "family_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")

