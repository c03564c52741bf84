"""Admins grant and revoke staff roles (official of one agency, or admin)."""

from __future__ import annotations

from typing import Any

from api.blueprint import Blueprint
from api.context import get_session
from api.guards import current_actor, current_principal
from schemas.identity import StaffGrantSchema, StaffSchema
from services.people import identity

_AGENCY = {"type": "string", "minLength": 1, "maxLength": 40, "example": "000.00.00.H15"}
# The rule marshmallow cannot say: an official belongs to an agency; an admin may name one or not.
GRANT_BODY = {"required": True, "content": {"application/json": {"schema": {"oneOf": [
    {"type": "object", "additionalProperties": False, "required": ["role", "agency_code"],
     "properties": {"role": {"type": "string", "enum": ["official"]}, "agency_code": _AGENCY}},
    {"type": "object", "additionalProperties": False, "required": ["role"],
     "properties": {"role": {"type": "string", "enum": ["admin"]}, "agency_code": {**_AGENCY, "nullable": True}}},
]}}}}

blp = Blueprint("admin_staff", __name__, url_prefix="/api/v1/admin", description="Staff roles (admin)")


def _acting_cccd() -> str:
    return identity.profile(get_session(), current_principal().user_id).user.cccd


@blp.put("/staff/<cccd:cccd>")
@blp.arguments(StaffGrantSchema)
@blp.doc(requestBody=GRANT_BODY)
@blp.response(200, StaffSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def put_staff(body: dict[str, Any], cccd: str) -> Any:
    """Grant or change a role; it takes effect at the person's next sign-in or token refresh."""
    return identity.grant_staff(get_session(), cccd, role=body["role"], agency_code=body["agency_code"],
                                granted_by=_acting_cccd(), actor=current_actor())


@blp.get("/staff/<cccd:cccd>")
@blp.response(200, StaffSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_staff(cccd: str) -> Any:
    """The staff role granted to a citizen number."""
    return identity.get_staff(get_session(), cccd)


@blp.delete("/staff/<cccd:cccd>")
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def delete_staff(cccd: str) -> None:
    """Take a staff role away; the person stays a citizen."""
    identity.revoke_staff(get_session(), cccd, revoked_by=_acting_cccd(), actor=current_actor())
