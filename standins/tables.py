"""The stand-ins' own table (the mock eID's authorization codes), outside the production schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.db import NAMING, UTCDateTime, make_engine


class StandinBase(DeclarativeBase):
    # Its own metadata, so Alembic (services/migrations/env.py) and production never see these tables.
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class MockAuthCode(StandinBase):
    """An authorization code of the mock eID provider: single use, short-lived, PKCE-bound."""

    __tablename__ = "mock_eid_codes"  # named with services.migrations.STANDIN_TABLE_PREFIX

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    state: Mapped[str] = mapped_column(String(500))
    nonce: Mapped[str | None] = mapped_column(String(500))
    code_challenge: Mapped[str] = mapped_column(String(128))
    claims: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


def create_tables(database_url: str) -> None:
    """Create the stand-ins' tables where missing (`flask db upgrade` with the mock eID enabled).

    Idempotent: a database migrated before the table left Alembic (0002 created it) keeps its own.
    """
    engine = make_engine(database_url)
    try:
        StandinBase.metadata.create_all(engine, checkfirst=True)
    finally:
        engine.dispose()
