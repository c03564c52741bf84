"""The citizen's document wallet: papers kept once (by content hash), their share links and expiry reminders."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from services.db import Base, IdMixin, StrEnumColumn, utcnow
from services.models.dossier import Dossier, StoredFile
from vocab import WalletSource


class WalletItem(IdMixin, Base):
    """One paper of one person; the bytes are the stored file's (never copied)."""

    __tablename__ = "wallet_items"
    __table_args__ = (
        # The owner's list, newest first, optionally by document type.
        Index("ix_wallet_items_owner_created", "owner_id", "created_at", "id"),
        Index("ix_wallet_items_owner_type_created", "owner_id", "document_type", "created_at", "id"),
        # The expiry reminders read items by date.
        Index("ix_wallet_items_expires", "expires_at"),
        # The collector asks whether any item still refers to a stored file.
        Index("ix_wallet_items_sha256", "sha256"),
    )

    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    document_type: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[WalletSource] = mapped_column(StrEnumColumn(WalletSource, 10))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    issued_at: Mapped[date | None] = mapped_column(Date)
    expires_at: Mapped[date | None] = mapped_column(Date)
    # The dossier whose result (or desk scan) this is.
    dossier_id: Mapped[str | None] = mapped_column(ForeignKey("dossiers.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    blob: Mapped[StoredFile] = relationship(lazy="joined", innerjoin=True)
    # The code of that dossier, read with the item (a primary-key lookup).
    dossier_code: Mapped[str | None] = column_property(
        select(Dossier.code).where(Dossier.id == dossier_id).correlate_except(Dossier).scalar_subquery())

    @property
    def content_type(self) -> str:
        return self.blob.content_type

    @property
    def size(self) -> int:
        return self.blob.size


class WalletShare(IdMixin, Base):
    """A single-use download link; only the token's hash is kept. Revoking deletes the row."""

    __tablename__ = "wallet_shares"
    __table_args__ = (Index("ix_wallet_shares_item_created", "item_id", "created_at", "id"),)

    item_id: Mapped[str] = mapped_column(ForeignKey("wallet_items.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_from: Mapped[str | None] = mapped_column(String(64))


class WalletAlert(Base):
    """An expiry reminder told to an item's owner: once per item, event and expiry date."""

    __tablename__ = "wallet_alerts"
    __table_args__ = (UniqueConstraint("item_id", "event", "expires_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("wallet_items.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(12))  # expiring | expired
    expires_at: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
