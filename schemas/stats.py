"""Statistics, their CSV export and the overdue list."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import PageArgs, PageSchema
from schemas.dossiers import DossierCursor

COLUMNS = ("agency_code", "agency_name", "received", "completed", "completed_on_time", "completed_late",
           "overdue_open", "rejected", "withdrawn", "refunds_due", "on_time_rate", "online_payment_rate",
           "avg_processing_days", "satisfaction_avg", "submitted", "submitted_reusing", "reuse_rate",
           "received_online", "received_desk", "received_postal", "online_rate", "digitised", "digitised_rate",
           "desk_payment", "desk_payment_rate", "returned_by_post")


class StatsArgs(ma.Schema):
    from_ = fields.Date(data_key="from", metadata={"description": "local date; default: the 1st of this month"})
    to = fields.Date(metadata={"description": "local date, included; default: today"})
    agency_code = fields.String(validate=validate.Length(1, 40))
    group_by = fields.String(load_default="agency", validate=validate.OneOf(("agency", "centre")),
                             metadata={"description": "agency: by competent agency; centre: by the one-stop centre "
                                       "that received it (online dossiers count at their agency)"})


class FiguresSchema(ma.Schema):
    agency_code = fields.String(required=True)
    agency_name = fields.String(required=True)
    received = fields.Integer(required=True)
    completed = fields.Integer(required=True)
    completed_on_time = fields.Integer(required=True)
    completed_late = fields.Integer(required=True)
    overdue_open = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    withdrawn = fields.Integer(required=True)
    refunds_due = fields.Integer(required=True, metadata={"description": "fees paid twice online: owed back"})
    on_time_rate = fields.Float(allow_none=True, required=True)
    online_payment_rate = fields.Float(allow_none=True, required=True)
    avg_processing_days = fields.Float(allow_none=True, required=True)
    satisfaction_avg = fields.Float(allow_none=True, required=True)
    submitted = fields.Integer(required=True, metadata={"description": "dossiers submitted in the range"})
    submitted_reusing = fields.Integer(required=True, metadata={
        "description": "of those, the ones with at least one paper taken from the document wallet"})
    reuse_rate = fields.Float(allow_none=True, required=True, metadata={
        "description": "submitted_reusing / submitted (Decision 766's reuse of papers already held)"})
    received_online = fields.Integer(required=True)
    received_desk = fields.Integer(required=True, metadata={"description": "filed in person at a one-stop desk"})
    received_postal = fields.Integer(required=True, metadata={"description": "brought by the postal service"})
    online_rate = fields.Float(allow_none=True, required=True, metadata={"description": "received_online / received"})
    digitised = fields.Integer(required=True, metadata={"description": "received with every mandatory paper held "
                                                        "as a file (uploaded online or scanned at the desk)"})
    digitised_rate = fields.Float(allow_none=True, required=True, metadata={"description": "digitised / received"})
    desk_payment = fields.Integer(required=True, metadata={"description": "completed with a fee paid at the desk"})
    desk_payment_rate = fields.Float(allow_none=True, required=True,
                                     metadata={"description": "of completed dossiers with a fee, paid at the desk"})
    returned_by_post = fields.Integer(required=True, metadata={"description": "completed, result sent by post"})


class StatsSchema(ma.Schema):
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)
    items = fields.List(fields.Nested(FiguresSchema), required=True)
    total = fields.Nested(FiguresSchema, required=True)


class WeekSchema(ma.Schema):
    start = fields.Date(data_key="week_start", required=True, metadata={"description": "a Monday (local)"})
    received = fields.Integer(required=True)
    completed = fields.Integer(required=True)


class WeeklySchema(ma.Schema):
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)
    items = fields.List(fields.Nested(WeekSchema), required=True)


class OverdueArgs(PageArgs):
    agency_code = fields.String(validate=validate.Length(1, 40))
    cursor = DossierCursor()


class StuckShipmentSchema(ma.Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"example": "return"})
    waybill_no = fields.String(required=True)
    status = fields.String(required=True, metadata={"example": "in_transit"})
    status_changed_at = fields.DateTime(required=True)


class OverdueItemSchema(ma.Schema):
    id = fields.String(required=True)
    code = fields.String(required=True)
    procedure_name = fields.String(required=True)
    agency_code = fields.String(required=True)
    status = fields.String(required=True)
    applicant_name = fields.String(allow_none=True, required=True)
    due_at = fields.DateTime(required=True)
    days_late = fields.Integer(required=True, metadata={"description": "working days past due (0: only its "
                                                                      "shipment is late)"})
    stuck_shipment = fields.Nested(StuckShipmentSchema, allow_none=True, metadata={
        "description": "a postal shipment of the dossier unchanged for over two working days"})


class OverduePageSchema(PageSchema):
    items = fields.List(fields.Nested(OverdueItemSchema), required=True)


class AuditArgs(PageArgs):
    action = fields.String(validate=validate.Length(1, 60), metadata={"example": "dossier.receive"})
    actor_id = fields.String(validate=validate.Length(1, 36))
    target_id = fields.String(validate=validate.Length(1, 60))
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    cursor = DossierCursor()


class AuditEntrySchema(ma.Schema):
    id = fields.String(required=True)
    at = fields.DateTime(required=True)
    actor_id = fields.String(allow_none=True, required=True)
    actor_role = fields.String(required=True)
    action = fields.String(required=True)
    target_type = fields.String(required=True)
    target_id = fields.String(required=True)
    details = fields.Dict(required=True)
    origin = fields.String(required=True)


class AuditPageSchema(PageSchema):
    items = fields.List(fields.Nested(AuditEntrySchema), required=True)
