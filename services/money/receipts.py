"""Receipt numbers: one gap-free series per agency and local year, for fees paid online and at the desk."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from services.calendar import TZ
from services.counters import next_number
from services.models import Agency, ReceiptCounter


def next_receipt(session: Session, agency: Agency, now: datetime) -> str:
    """BL-{agency}-{year}-{NNNNNN} (services.counters: a rolled-back transaction gives its number back)."""
    year = now.astimezone(TZ).year
    return f"BL-{agency.code}-{year}-{next_number(session, ReceiptCounter, agency_id=agency.id, year=year):06d}"
