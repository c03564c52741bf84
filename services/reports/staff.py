"""Officials move the reports of their agency (admins, of any agency), guarded by the report's version."""

from __future__ import annotations

from typing import IO, Any

from sqlalchemy.orm import Session

from services.actors import Actor
from services.calendar import WorkingCalendar
from services.db import transaction
from services.errors import Conflict, InvalidTransition, PreconditionFailed, PreconditionRequired, ValidationFailed
from services.models import Report, ReportPhoto
from services.reports import photos, pins
from services.reports.citizen import attach_photos, prepare_photos, store_photos
from services.reports.lifecycle import apply
from services.reports.queries import get_handled
from services.reports.table import OFFICIAL_ACTIONS, OPEN
from services.storage import Blob, Storage
from vocab import ReportPhotoKind


def act(session: Session, actor: Actor, report_id: str, action: str, *, expected_version: int | None,
        calendar: WorkingCalendar, **inputs: Any) -> Report:
    """One official action on the version the official last read (None: they did not say which)."""
    with transaction(session):
        report = get_handled(session, actor, report_id, lock=True)
        if expected_version is None:
            raise PreconditionRequired("send If-Match with the report's ETag")
        if expected_version != report.version:
            raise PreconditionFailed("the report changed since you read it")
        if action not in OFFICIAL_ACTIONS:
            raise InvalidTransition(f"{action} is not an official's action")
        apply(session, report, action, actor, calendar=calendar, **inputs)
        return report


def add_after_photo(session: Session, actor: Actor, report_id: str, *, stream: IO[bytes], storage: Storage,
                    max_bytes: int) -> ReportPhoto:
    """The agency's "after" photo, shown with the fix (before or right after `resolve`)."""
    with transaction(session):
        report = get_handled(session, actor, report_id)
        if report.status not in OPEN | {"resolved"}:
            raise Conflict("an after photo belongs to a report being fixed or resolved")
        uploads = prepare_photos([stream], max_bytes=max_bytes)

    def work(blobs: list[Blob]) -> ReportPhoto:
        report = get_handled(session, actor, report_id, lock=True)
        if sum(p.kind == ReportPhotoKind.after for p in report.photos) >= photos.MAX_PHOTOS:
            raise ValidationFailed("too many photos", errors={"file": [f"At most {photos.MAX_PHOTOS} photos."]})
        added = attach_photos(report, blobs, ReportPhotoKind.after, actor)
        pins.touch(session, [report.cell])
        session.flush()
        return added[0]

    return store_photos(session, storage, uploads, work)
