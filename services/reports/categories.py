"""Report categories: the seeded set, the public list, an admin's edits, and where a report is routed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services import audit
from services.actors import Actor
from services.db import transaction
from services.errors import NotFound, ValidationFailed
from services.models import Agency, AgencyWard, ReportCategory
from services.province.catalog import find_agency
from services.reports import geo, pins

CATEGORIES_FILE = Path(__file__).resolve().parent.parent / "seed_data" / "report_categories.json"
EDITABLE = ("name", "name_en", "by_ward", "sla_days", "photo_required", "active")


def seed_categories(session: Session, path: Path = CATEGORIES_FILE) -> int:
    """Create the categories the file lists that do not exist yet (an admin's edits are kept); how many."""
    created = 0
    with transaction(session):
        existing = set(session.scalars(select(ReportCategory.code)))
        for position, item in enumerate(json.loads(path.read_text(encoding="utf-8"))["categories"]):
            agency = find_agency(session, item["agency_code"])
            if item["code"] in existing or agency is None:
                continue
            session.add(ReportCategory(code=item["code"], name=item["name"], name_en=item.get("name_en"),
                                       agency_id=agency.id, by_ward=item["by_ward"], sla_days=item["sla_days"],
                                       photo_required=item["photo_required"], active=True, position=position))
            created += 1
        session.flush()
    return created


def list_categories(session: Session, *, include_inactive: bool = False) -> list[ReportCategory]:
    stmt = select(ReportCategory).order_by(ReportCategory.position, ReportCategory.code)
    if not include_inactive:
        stmt = stmt.where(ReportCategory.active.is_(True))
    return list(session.scalars(stmt))


def find_category(session: Session, code: str) -> ReportCategory | None:
    return session.scalar(select(ReportCategory).where(ReportCategory.code == code))


def get_category(session: Session, code: str, *, field: str | None = None) -> ReportCategory:
    """An active category; with `field`, an unknown one is a 422 on that field rather than a 404."""
    category = find_category(session, code)
    if category is None or not category.active:
        if field:
            raise ValidationFailed("unknown category", errors={field: ["Not a report category; see "
                                                                       "/api/v1/report-categories."]})
        raise NotFound("no such report category")
    return category


def update_category(session: Session, actor: Actor, code: str, *, changes: dict[str, Any]) -> ReportCategory:
    """An admin changes a category (or creates it, when `name`, `agency_code` and `sla_days` are given)."""
    with transaction(session):
        category = find_category(session, code)
        agency = None
        if changes.get("agency_code") is not None:
            agency = find_agency(session, changes["agency_code"])
            if agency is None:
                raise ValidationFailed("unknown agency", errors={"agency_code": ["No such agency."]})
        if category is None:
            missing = [k for k in ("name", "agency_code", "sla_days") if changes.get(k) is None]
            if missing:
                raise ValidationFailed("a new category needs more", errors={k: ["Required for a new category."]
                                                                            for k in missing})
            category = ReportCategory(code=code, name=changes["name"], agency_id=agency.id if agency else "",
                                      sla_days=changes["sla_days"], by_ward=False, photo_required=False,
                                      active=True, position=1000)
            session.add(category)
        if agency is not None:
            category.agency_id, category.agency = agency.id, agency
        for name in EDITABLE:
            if changes.get(name) is not None:
                setattr(category, name, changes[name])
        pins.touch_all(session)  # its name and agency show on every pin of it
        audit.record(session, actor, "report_category.update", "report_category", code,
                     {k: v for k, v in changes.items() if v is not None})
        session.flush()
        return category


def route(session: Session, category: ReportCategory, lat: float, lon: float) -> tuple[Agency, str | None]:
    """The agency that handles a report of this category here, and the ward it falls in."""
    ward_code = geo.ward_at(lat, lon)
    if category.by_ward and ward_code is not None:
        agency = session.scalar(select(Agency).join(AgencyWard, AgencyWard.agency_id == Agency.id)
                                .where(AgencyWard.ward_code == ward_code, Agency.active.is_(True)))
        if agency is not None:
            return agency, ward_code
    return category.agency, ward_code
