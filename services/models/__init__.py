"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from services.models.audit import AuditEntry
from services.models.catalog import (
    Agency,
    AgencyWard,
    CatalogRevision,
    Procedure,
    ProcedureAgency,
    ProcedureGroup,
    ProcedureGroupMember,
    RequiredDocument,
)
from services.models.desk import DeskDocument, DeskPayment, DocumentCounter, Shipment, ShipmentEvent
from services.models.dossier import (
    Attachment,
    Dossier,
    DossierBundle,
    DossierCodeCounter,
    IdempotencyKey,
    StoredFile,
    TimelineEntry,
)
from services.models.event import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from services.models.identity import RefreshToken, StaffRole, UsedEidToken, User
from services.models.notification import Announcement, DeadlineAlert, Device, Notification, PushJob
from services.models.payment import Payment, PaymentCallback, ReceiptCounter
from services.models.reports import (
    Open311Key,
    Report,
    ReportCategory,
    ReportCell,
    ReportCodeCounter,
    ReportEntry,
    ReportFollower,
    ReportPhoto,
)
from services.models.wallet import WalletAlert, WalletItem, WalletShare

__all__ = [
    "AuditEntry",
    "Agency",
    "AgencyWard",
    "CatalogRevision",
    "Procedure",
    "ProcedureGroup",
    "ProcedureAgency",
    "ProcedureGroupMember",
    "RequiredDocument",
    "Attachment",
    "DeskDocument",
    "DeskPayment",
    "DocumentCounter",
    "Dossier",
    "DossierBundle",
    "DossierCodeCounter",
    "Event",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "IdempotencyKey",
    "StoredFile",
    "TimelineEntry",
    "Announcement",
    "DeadlineAlert",
    "Device",
    "Notification",
    "PushJob",
    "Payment",
    "PaymentCallback",
    "ReceiptCounter",
    "Open311Key",
    "Report",
    "ReportCategory",
    "ReportCell",
    "ReportCodeCounter",
    "ReportEntry",
    "ReportFollower",
    "ReportPhoto",
    "RefreshToken",
    "Shipment",
    "ShipmentEvent",
    "StaffRole",
    "UsedEidToken",
    "User",
    "WalletAlert",
    "WalletItem",
    "WalletShare",
]
