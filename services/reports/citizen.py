"""Citizens file field reports (with photos), follow a possible duplicate instead, reopen and rate.

Each public function is one transaction. Photos are re-encoded and stored before the rows that name
them; when the transaction fails, a blob this request created and nothing references is removed.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, TypeVar

from sqlalchemy.orm import Session

from services import idempotency, stored
from services.actors import Actor
from services.calendar import WorkingCalendar
from services.clock import clock
from services.db import insert_new, transaction
from services.errors import Conflict, ValidationFailed
from services.idempotency import IdempotentRequest
from services.models import Report, ReportFollower, ReportPhoto
from services.notices.alerts import officials_of
from services.notices.inbox import notify
from services.reports import geo, photos, pins
from services.reports.categories import get_category, route
from services.reports.lifecycle import apply, params, record_created
from services.reports.queries import get_own, get_report
from services.reports.rules import next_code, sla_days
from services.reports.table import OPEN
from services.storage import Blob, Storage
from vocab import ReportPhotoKind

T = TypeVar("T")
Upload = tuple[bytes, str]  # a photo's public copy and its type


def prepare_photos(streams: list[IO[bytes]], *, max_bytes: int, already: int = 0) -> list[Upload]:
    """The public copies of uploaded photos (415 for anything not a JPEG or PNG by its bytes)."""
    if already + len(streams) > photos.MAX_PHOTOS:
        raise ValidationFailed("too many photos", errors={"file": [f"At most {photos.MAX_PHOTOS} photos."]})
    return [photos.public_copy(s, max_bytes=max_bytes) for s in streams]


def store_photos(session: Session, storage: Storage, uploads: list[Upload], work: Callable[[list[Blob]], T]) -> T:
    blobs = [storage.put(io.BytesIO(data), max_bytes=len(data)) for data, _ in uploads]
    return stored.store_then(session, storage, blobs, lambda: work(blobs))


def attach_photos(report: Report, blobs: list[Blob], kind: ReportPhotoKind, actor: Actor) -> list[ReportPhoto]:
    added = [ReportPhoto(report_id=report.id, kind=kind, sha256=b.sha256, content_type=b.content_type,
                         uploaded_by=actor.user_id or None, created_at=clock.now()) for b in blobs]
    report.photos.extend(added)
    return added


def check_location(lat: float, lon: float) -> None:
    if not geo.in_province(lat, lon):
        message = "Outside the province."
        raise ValidationFailed("this location is outside the province", errors={"lat": [message], "lon": [message]})


def file_report(session: Session, actor: Actor | None, *, category_code: str, description: str, lat: float,
                lon: float, address: str | None, urgent: bool, uploads: list[Upload], storage: Storage,
                calendar: WorkingCalendar, request: IdempotentRequest | None, media_url: str | None = None,
                open311_key_id: str | None = None) -> Report:
    """A new report, routed to its agency with its deadline; the agency's officials are told."""
    with transaction(session):  # checked before anything is stored
        category = get_category(session, category_code, field="category_code")
        check_location(lat, lon)
        if category.photo_required and not uploads and not media_url:
            raise ValidationFailed("this category needs a photo", errors={"file": [
                "A photo is required for this category: send the report as multipart/form-data with `file`."]})
        if len(uploads) > photos.MAX_PHOTOS:
            raise ValidationFailed("too many photos", errors={"file": [f"At most {photos.MAX_PHOTOS} photos."]})

    def work(blobs: list[Blob]) -> Report:
        def create() -> Report:
            category = get_category(session, category_code, field="category_code")
            agency, ward_code = route(session, category, lat, lon)
            now = clock.now()
            report = Report(code=next_code(session, now), category_id=category.id, category=category,
                            agency_id=agency.id, agency=agency, reporter_id=actor.user_id if actor else None,
                            open311_key_id=open311_key_id, description=description, lat=lat, lon=lon,
                            cell=geo.cell_of(lat, lon), ward_code=ward_code, address=address, media_url=media_url,
                            urgent=urgent, created_at=now, status_changed_at=now,
                            due_at=calendar.due_at(now, sla_days(category, urgent)), reopen_count=0,
                            photos=[], timeline=[])
            session.add(report)
            session.flush()
            attach_photos(report, blobs, ReportPhotoKind.report, actor or Actor("", "citizen"))
            record_created(session, report, actor or Actor("", "open311"), now)
            notify(session, officials_of(session, agency.id), "staff.report_new", params(report))
            session.flush()
            return report

        return idempotency.run(session, request, create, lambda report_id: get_report(session, report_id))

    return store_photos(session, storage, uploads, work)


def add_photos(session: Session, actor: Actor, report_id: str, *, streams: list[IO[bytes]], storage: Storage,
               max_bytes: int, kind: ReportPhotoKind = ReportPhotoKind.report) -> list[ReportPhoto]:
    """More photos of an open report, by its reporter (up to five in all)."""
    with transaction(session):
        report = get_own(session, actor, report_id)
        if report.status not in OPEN:
            raise Conflict("photos can be added while the report is open")
        uploads = prepare_photos(streams, max_bytes=max_bytes, already=len(report.photos))

    def work(blobs: list[Blob]) -> list[ReportPhoto]:
        report = get_own(session, actor, report_id, lock=True)
        if len(report.photos) + len(blobs) > photos.MAX_PHOTOS:
            raise ValidationFailed("too many photos", errors={"file": [f"At most {photos.MAX_PHOTOS} photos."]})
        added = attach_photos(report, blobs, kind, actor)
        pins.touch(session, [report.cell])
        session.flush()
        return added

    return store_photos(session, storage, uploads, work)


def follow(session: Session, actor: Actor, report_id: str) -> Report:
    """Follow an open report (a possible duplicate) instead of filing a new one; idempotent."""
    with transaction(session):
        report = get_report(session, report_id)
        if report.status not in OPEN:
            raise Conflict("only an open report can be followed")
        if report.reporter_id != actor.user_id and insert_new(
                session, ReportFollower, {"report_id": report.id, "user_id": actor.user_id,
                                          "created_at": clock.now()}, key=["report_id", "user_id"]):
            pins.touch(session, [report.cell])  # the pin's follower count
        return report


def unfollow(session: Session, actor: Actor, report_id: str) -> None:
    with transaction(session):
        report = get_report(session, report_id)
        if (row := session.get(ReportFollower, (report_id, actor.user_id))) is not None:
            session.delete(row)
            pins.touch(session, [report.cell])


def reopen(session: Session, actor: Actor, report_id: str, *, reason: str, calendar: WorkingCalendar) -> Report:
    with transaction(session):
        report = get_own(session, actor, report_id, lock=True)
        apply(session, report, "reopen", actor, calendar=calendar, reason=reason)
        return report


def rate(session: Session, actor: Actor, report_id: str, *, score: int, comment: str | None) -> Report:
    with transaction(session):
        report = get_own(session, actor, report_id, lock=True)
        apply(session, report, "rate", actor, score=score, comment=comment)
        return report
