"""Catalog responses: agencies, procedures, interconnected groups."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import PageArgs, PageSchema, Word
from vocab import AgencyLevel, OnlineLevel


class AgencySchema(ma.Schema):
    code = fields.String(required=True, metadata={"example": "000.00.19.H47"})
    name = fields.String(required=True)
    level = Word(AgencyLevel, required=True)
    parent_code = fields.Function(lambda a: a.parent.code if a.parent else None, allow_none=True)


class AgencyListSchema(ma.Schema):
    items = fields.List(fields.Nested(AgencySchema), required=True)


class ProcedureListArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=200), metadata={"description": "name, diacritics optional"})
    agency_code = fields.String(validate=validate.Length(max=40))
    field = fields.String(validate=validate.Length(max=120))


class ProcedureSummarySchema(ma.Schema):
    code = fields.String(required=True, metadata={"example": "1.001193"})
    name = fields.String(required=True)
    field = fields.String(required=True)
    agency_code = fields.String(required=True)
    processing_days = fields.Integer(required=True)
    fee_vnd = fields.Integer(required=True)
    online_level = Word(OnlineLevel, required=True)
    min_eid_level = fields.Integer(required=True, validate=validate.OneOf((1, 2)))


class ProcedurePageSchema(PageSchema):
    items = fields.List(fields.Nested(ProcedureSummarySchema), required=True)


class RequiredDocumentSchema(ma.Schema):
    type = fields.String(required=True)
    name = fields.String(required=True)
    mandatory = fields.Boolean(required=True)


class ProcedureSchema(ProcedureSummarySchema):
    description = fields.String(required=True)
    agency_name = fields.Function(lambda p: p.agency.name)
    required_documents = fields.List(fields.Nested(RequiredDocumentSchema), required=True)
    form_schema = fields.Dict(required=True, metadata={"description": "JSON Schema the dossier form must satisfy"})


class ProcedureGroupSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    procedure_codes = fields.List(fields.String(), required=True,
                                  metadata={"description": "in the order the steps happen"})
    form_schema = fields.Dict(metadata={"description": "the one form filled for the whole group"})


class ProcedureGroupListSchema(ma.Schema):
    items = fields.List(fields.Nested(ProcedureGroupSchema), required=True)
