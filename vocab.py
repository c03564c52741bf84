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


class WalletSource(StrEnum):
    """How a paper entered a citizen's wallet."""

    upload = "upload"  # the citizen's own upload
    result = "result"  # the result of one of their completed dossiers
    desk_scan = "desk_scan"  # a paper scanned at a one-stop desk


class PaidVia(StrEnum):
    """Where a dossier's fee was paid: through the gateway, or at the desk."""

    online = "online"
    desk = "desk"


class DeskPaymentMethod(StrEnum):
    cash = "cash"
    pos = "pos"
    transfer = "transfer"


class DeskForm(StrEnum):
    """The decree's desk documents (Decree 61/2018, Circular 01/2018 forms 01-04)."""

    receipt = "01"  # receipt and appointment slip
    supplement = "02"  # supplement request
    refusal = "03"  # refusal
    apology = "04"  # apology letter with the new appointment


class ShipmentKind(StrEnum):
    pickup = "pickup"  # the carrier picks the papers up from the applicant
    return_ = "return"  # the carrier takes the result to the applicant (`return` is a keyword)


class ShipmentStatus(StrEnum):
    created = "created"
    picked_up = "picked_up"
    in_transit = "in_transit"
    delivered = "delivered"
    returned = "returned"
    failed = "failed"


class ReportStatus(StrEnum):
    """A field report (phản ánh hiện trường) from filing to its fix."""

    new = "new"
    accepted = "accepted"
    in_progress = "in_progress"
    resolved = "resolved"
    rejected = "rejected"
    reopened = "reopened"


class ReportPhotoKind(StrEnum):
    report = "report"  # the reporter's, at filing
    after = "after"  # the agency's, showing the fix


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
