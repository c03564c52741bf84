"""The shared words of every layer: statuses, roles, channels, languages. Imports nothing of ours."""

from __future__ import annotations

from enum import StrEnum


class DossierStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    received = "received"
    in_progress = "in_progress"
    supplement_requested = "supplement_requested"
    approved = "approved"
    rejected = "rejected"
    completed = "completed"
    withdrawn = "withdrawn"


class PaymentStatus(StrEnum):
    """One online payment attempt at the gateway."""

    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"
    expired = "expired"
    cancelled = "cancelled"


class FeeStatus(StrEnum):
    """Where a dossier's fee stands (the dossier's `payment_status`)."""

    not_required = "not_required"
    unpaid = "unpaid"
    pending = "pending"
    paid = "paid"


class PushJobStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class Role(StrEnum):
    citizen = "citizen"
    official = "official"
    admin = "admin"


STAFF_ROLES = (Role.official, Role.admin)


class ActorKind(StrEnum):
    """Who a lifecycle transition is for: the subject's owner, its agency's staff, or the system."""

    citizen = "citizen"
    official = "official"
    system = "system"


class Gender(StrEnum):
    male = "male"
    female = "female"


class Language(StrEnum):
    vi = "vi"
    en = "en"


class AgencyLevel(StrEnum):
    province = "province"
    department = "department"
    district = "district"  # gone since 1 July 2025, kept for older data
    commune = "commune"


class ProcedureLevel(StrEnum):
    """Who handles a procedure: the province, every commune, or a sector's own agency (police, insurance)."""

    province = "province"
    commune = "commune"
    sector = "sector"


class FeeKind(StrEnum):
    flat = "flat"
    per_copy = "per_copy"  # times the form's `copies`
    per_page = "per_page"  # times the form's `pages`, cheaper from a page on, capped per copy


class OnlineLevel(StrEnum):
    full = "full"
    partial = "partial"


class Channel(StrEnum):
    """How a dossier came in, and how its result goes back."""

    online = "online"
    desk = "desk"
    postal = "postal"


class Platform(StrEnum):
    android = "android"
    ios = "ios"
    web = "web"


class AttachmentKind(StrEnum):
    document = "document"  # the applicant's papers
    result = "result"  # the certificate an official uploads


class EventType(StrEnum):
    """What the event log records and webhooks carry (API.md, events out)."""

    dossier_submitted = "dossier.submitted"
    dossier_status_changed = "dossier.status_changed"
    dossier_transferred = "dossier.transferred"
    payment_succeeded = "payment.succeeded"
    report_created = "report.created"
    report_status_changed = "report.status_changed"


class DeliveryStatus(StrEnum):
    """One event on its way to one webhook subscription."""

    pending = "pending"  # due, backing off, or leased to a worker
    delivered = "delivered"
    failed = "failed"  # a 4xx other than 429, or retried past the retry window
