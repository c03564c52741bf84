"""Field report requests and responses: the citizen's, the public map's, the agency's."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import Cursor, PageArgs, PageSchema, StrictBoolean, WholeNumber, Word
from vocab import ReportPhotoKind, ReportStatus


def _lat(**kwargs: Any) -> fields.Float:
    return fields.Float(allow_nan=False, validate=validate.Range(-90, 90), metadata={"example": 16.0678}, **kwargs)


def _lon(**kwargs: Any) -> fields.Float:
    return fields.Float(allow_nan=False, validate=validate.Range(-180, 180), metadata={"example": 108.2208},
                        **kwargs)

NUMBER = r"-?\d{1,3}(?:\.\d{1,17})?"
BBOX = rf"^{NUMBER},{NUMBER},{NUMBER},{NUMBER}$"
ACTIONS = ("accept", "transfer", "start", "resolve", "reject")


class ReportCursor(Cursor):
    """A report list's cursor (a time and an id)."""

    def __init__(self, **kwargs: object) -> None:
        # The same shape as a dossier list's cursor, so the same format (clients and generators know it).
        kwargs.setdefault("metadata", {"description": "next_cursor of the previous page", "format": "dossier-cursor"})
        super().__init__(**kwargs)


class CategorySchema(ma.Schema):
    code = fields.String(required=True, metadata={"example": "road_damage"})
    name = fields.String(required=True, metadata={"example": "Hư hỏng mặt đường, ổ gà"})
    agency_code = fields.String(required=True, metadata={
        "description": "the default agency; commune-level categories go to the ward's commune"})
    by_ward = fields.Boolean(required=True)
    sla_days = fields.Integer(required=True, metadata={"description": "working days (urgent: 1)"})
    photo_required = fields.Boolean(required=True)
    active = fields.Boolean(required=True)


class CategoryListSchema(ma.Schema):
    items = fields.List(fields.Nested(CategorySchema), required=True)


class CategoryUpdateSchema(ma.Schema):
    name = fields.String(validate=validate.Length(1, 200))
    name_en = fields.String(validate=validate.Length(1, 200))
    agency_code = fields.String(validate=validate.Length(1, 40))
    by_ward = StrictBoolean()
    sla_days = fields.Integer(validate=validate.Range(1, 60))
    photo_required = StrictBoolean()
    active = StrictBoolean()


class CreateReportSchema(ma.Schema):
    category_code = fields.String(required=True, validate=validate.Length(1, 40))
    description = fields.String(required=True, validate=validate.Length(5, 2000))
    lat = _lat(required=True)
    lon = _lon(required=True)
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 300))
    urgent = StrictBoolean(load_default=False)


class CreateReportFormSchema(CreateReportSchema):
    """The same fields as form fields, beside one to five `file` parts (a photo each)."""

    urgent = fields.Boolean(load_default=False)  # type: ignore[assignment]  # a form says "true"


class PhotoUploadSchema(ma.Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class PhotoSchema(ma.Schema):
    id = fields.String(required=True)
    kind = Word(ReportPhotoKind, required=True)
    content_type = fields.String(required=True, metadata={"example": "image/jpeg"})
    url = fields.String(required=True, metadata={"description": "the public copy, without EXIF metadata"})


class PhotoListSchema(ma.Schema):
    items = fields.List(fields.Nested(PhotoSchema), required=True)


class ReportEntrySchema(ma.Schema):
    action = fields.String(required=True)
    status = Word(ReportStatus, required=True)
    status_label = fields.String(required=True)
    at = fields.DateTime(required=True)
    note = fields.String(allow_none=True)
    agency_code = fields.String(allow_none=True)


class PinSchema(ma.Schema):
    """A report on the public map: nothing about the reporter."""

    id = fields.String(required=True)
    code = fields.String(required=True, metadata={"example": "PA-261125-00001"})
    category_code = fields.String(required=True)
    category_name = fields.String(required=True)
    status = Word(ReportStatus, required=True)
    status_label = fields.String(required=True)
    description = fields.String(required=True)
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    address = fields.String(allow_none=True)
    agency_code = fields.String(required=True)
    agency_name = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolution_note = fields.String(allow_none=True)
    followers = fields.Integer(required=True)
    photos = fields.List(fields.Nested(PhotoSchema), required=True)


class PublicReportSchema(PinSchema):
    """What anyone may see of a report: the pin and its timeline (what happened and when, never who)."""

    timeline = fields.List(fields.Nested(ReportEntrySchema), required=True)


class ReportSchema(PublicReportSchema):
    """The reporter's and the agency's view; another person gets the public view (`public: true`)."""

    public = fields.Boolean(required=True, metadata={"description": "true: the public view only"})
    urgent = fields.Boolean()
    due_at = fields.DateTime()
    overdue = fields.Boolean()
    reopen_count = fields.Integer()
    rating = fields.Dict(allow_none=True, metadata={"description": "{score, comment, rated_at} once rated"})
    following = fields.Boolean()
    allowed_actions = fields.List(fields.String())


class ReportPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReportSchema), required=True)


class MineArgs(PageArgs):
    mine = fields.Boolean(load_default=True, metadata={"description": "the caller's own reports (the only list)"})
    cursor = ReportCursor()


class QueueArgs(PageArgs):
    status = Word(ReportStatus)
    overdue = fields.Boolean()
    category_code = fields.String(validate=validate.Length(1, 40))
    agency_code = fields.String(validate=validate.Length(1, 40), metadata={"description": "admins only"})
    cursor = ReportCursor()


class MapArgs(ma.Schema):
    bbox = fields.String(required=True, validate=validate.Regexp(BBOX), metadata={
        "description": "west,south,east,north in degrees (at most 0.5° a side)",
        "example": "108.19,16.04,108.24,16.09"})
    category_code = fields.String(validate=validate.Length(1, 40))
    limit = WholeNumber(load_default=500, validate=validate.Range(1, 500), metadata={
        "description": "at most this many pins, newest first; past it, `clusters` counts them all"})


class ClusterSchema(ma.Schema):
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    count = fields.Integer(required=True)


class MapSchema(ma.Schema):
    items = fields.List(fields.Nested(PinSchema), required=True)
    truncated = fields.Boolean(required=True, metadata={
        "description": "the box holds more than `limit` pins: zoom in, or draw `clusters`"})
    clusters = fields.List(fields.Nested(ClusterSchema), required=True, metadata={
        "description": "when truncated, every matching report counted on a 16 × 16 cut of the box "
                       "(the mean position of each part's reports); empty otherwise"})


class NearbyArgs(ma.Schema):
    lat = _lat(required=True)
    lon = _lon(required=True)
    category_code = fields.String(required=True, validate=validate.Length(1, 40))


class NearbyItemSchema(PublicReportSchema):
    distance_m = fields.Float(required=True)


class NearbySchema(ma.Schema):
    items = fields.List(fields.Nested(NearbyItemSchema), required=True)


class ReopenSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 1000))


class ReportRatingSchema(ma.Schema):
    score = fields.Integer(required=True, validate=validate.Range(1, 5))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class ReportActionSchema(ma.Schema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    agency_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 40))


class Open311KeyRequestSchema(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(1, 120))


class Open311KeySchema(ma.Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    api_key = fields.String(metadata={"description": "shown this once"})
    created_at = fields.DateTime(required=True)


class ReportStatsArgs(ma.Schema):
    from_ = fields.Date(data_key="from", metadata={"description": "local date; default: the 1st of this month"})
    to = fields.Date(metadata={"description": "local date, included; default: today"})
    agency_code = fields.String(validate=validate.Length(1, 40))


class ReportFiguresSchema(ma.Schema):
    agency_code = fields.String(required=True)
    agency_name = fields.String(required=True)
    category_code = fields.String(required=True)
    category_name = fields.String(required=True)
    received = fields.Integer(required=True)
    resolved = fields.Integer(required=True)
    resolved_on_time = fields.Integer(required=True)
    resolved_late = fields.Integer(required=True)
    open_overdue = fields.Integer(required=True, metadata={"description": "open now and past due"})
    reopened = fields.Integer(required=True, metadata={"description": "reopenings within the range"})
    rejected = fields.Integer(required=True)
    on_time_rate = fields.Float(allow_none=True, required=True)
    rated = fields.Integer(required=True)
    satisfaction_avg = fields.Float(allow_none=True, required=True, metadata={"description": "1–5"})


class ReportStatsSchema(ma.Schema):
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)
    items = fields.List(fields.Nested(ReportFiguresSchema), required=True)
    total = fields.Nested(ReportFiguresSchema, required=True)
