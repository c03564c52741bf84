"""Sign-in, sessions, the caller's profile, staff grants and the mock eID provider's token request."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import WholeNumber, Word
from vocab import STAFF_ROLES, Gender, Role

CCCD = validate.Regexp(r"^\d{12}$", error="Must be exactly 12 digits.")


class EidSignInSchema(ma.Schema):
    id_token = fields.String(required=True, validate=validate.Length(1, 16_384),
                             metadata={"description": "ID token from the eID provider (RS256 JWT)"})


class RefreshSchema(ma.Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(1, 512))


class MeSchema(ma.Schema):
    id = fields.String(attribute="user.id", required=True)
    full_name = fields.String(attribute="user.full_name", required=True)
    cccd = fields.String(attribute="user.cccd", required=True)
    date_of_birth = fields.Date(attribute="user.date_of_birth", required=True)
    gender = Word(Gender, attribute="user.gender", required=True)
    eid_level = fields.Integer(attribute="user.eid_level", required=True)
    roles = fields.List(Word(Role), required=True)
    agency_code = fields.String(allow_none=True, required=True)


class TokenPairSchema(ma.Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True, metadata={"description": "opaque; single use, rotates"})
    token_type = fields.Constant("Bearer", required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "seconds the access token lives"})
    user = fields.Nested(MeSchema, required=True)


class StaffGrantSchema(ma.Schema):
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    agency_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 40))


class StaffSchema(ma.Schema):
    cccd = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    agency_code = fields.Function(lambda s: s.agency.code if s.agency else None, allow_none=True,
                                  metadata={"type": "string"})
    granted_at = fields.DateTime(required=True)


class MockTokenRequestSchema(ma.Schema):
    cccd = fields.String(required=True, validate=CCCD)
    full_name = fields.String(required=True, validate=validate.Length(2, 120))
    date_of_birth = fields.Date(required=True)
    gender = Word(Gender, required=True)
    eid_level = WholeNumber(required=True, validate=validate.OneOf((1, 2)))
    nonce = fields.String(validate=validate.Length(1, 500))


class MockTokenResponseSchema(ma.Schema):
    id_token = fields.String(required=True)
    token_type = fields.Constant("Bearer", required=True)
    expires_in = fields.Integer(required=True)
