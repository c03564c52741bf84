"""Admins keep the catalog: create and update procedures and agencies; deactivate, never delete.

A deactivated procedure accepts no new dossiers (services.dossiers.submit_one) while its dossiers go
on. Every change bumps the catalog revision (so ETags and caches move) and is audited.
"""

from __future__ import annotations

from typing import Any

import jsonschema
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services import audit
from services.actors import Actor
from services.db import transaction
from services.errors import Conflict, NotFound, ValidationFailed
from services.models import Agency, AgencyWard, Procedure, RequiredDocument
from services.pagination import Page, keyset_page
from services.province.catalog import bump_revision, get_agency, get_procedure, serving
from services.text import fold

MAX_PROCESSING_DAYS = 365
MAX_FEE_VND = 100_000_000


def _check(values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if "form_schema" in values:
        try:
            jsonschema.Draft202012Validator.check_schema(values["form_schema"])
        except jsonschema.SchemaError as exc:
            path = "/".join(str(p) for p in exc.path) or "(root)"
            errors["form_schema"] = [f"Not a valid JSON Schema at {path}: {exc.message}"]
        if values["form_schema"].get("type", "object") != "object":
            errors.setdefault("form_schema", []).append("A form is an object: type must be object.")
    if not 0 <= values.get("processing_days", 0) <= MAX_PROCESSING_DAYS:
        errors["processing_days"] = [f"Between 0 and {MAX_PROCESSING_DAYS} working days."]
    if not 0 <= values.get("fee_vnd", 0) <= MAX_FEE_VND:
        errors["fee_vnd"] = [f"Between 0 and {MAX_FEE_VND:,} VND."]
    documents = values.get("required_documents")
    if documents is not None and len({d["type"] for d in documents}) != len(documents):
        errors["required_documents"] = ["Document types must be unique."]
    if errors:
        raise ValidationFailed("invalid procedure", errors=errors)


def _apply(session: Session, procedure: Procedure, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name == "agency_code":
            procedure.agency_id = get_agency(session, value).id
        elif name == "required_documents":
            procedure.required_documents.clear()
            session.flush()
            procedure.required_documents.extend(RequiredDocument(position=i, **d) for i, d in enumerate(value))
        else:
            setattr(procedure, name, value)
    if "name" in values:
        procedure.search_name = fold(values["name"])


def list_all(session: Session, *, after: Any = None, limit: int = 20) -> Page[Procedure]:
    stmt = select(Procedure).options(selectinload(Procedure.required_documents))
    return keyset_page(session, stmt, [Procedure.code], lambda p: (p.code,), after=after, limit=limit)


def create_procedure(session: Session, actor: Actor, values: dict[str, Any]) -> Procedure:
    _check(values)
    with transaction(session):
        if session.scalar(select(Procedure.id).where(Procedure.code == values["code"])) is not None:
            raise Conflict(f"procedure {values['code']} exists")
        procedure = Procedure(code=values["code"], active=values.get("active", True), description="",
                              required_documents=[])
        with session.no_autoflush:  # complete it (the agency looked up) before it is written
            _apply(session, procedure, {k: v for k, v in values.items() if k != "code"})
        session.add(procedure)
        session.flush()
        bump_revision(session)
        audit.record(session, actor, "catalog.procedure.create", "procedure", procedure.code,
                     {k: v for k, v in values.items() if k != "form_schema"})
        return procedure


def update_procedure(session: Session, actor: Actor, code: str, values: dict[str, Any]) -> Procedure:
    _check(values)
    with transaction(session):
        procedure = get_procedure(session, code, include_inactive=True)
        _apply(session, procedure, values)
        session.flush()
        bump_revision(session)
        audit.record(session, actor, "catalog.procedure.update", "procedure", code,
                     {k: v for k, v in values.items() if k != "form_schema"}
                     | ({"form_schema": "changed"} if "form_schema" in values else {}))
        return procedure


def list_agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).options(selectinload(Agency.wards)).order_by(Agency.code)))


def _serve_wards(session: Session, agency: Agency, codes: list[str]) -> None:
    taken = session.scalars(select(AgencyWard).where(AgencyWard.ward_code.in_(codes),
                                                     AgencyWard.agency_id != agency.id)).all()
    if taken:
        raise Conflict(f"wards served by another agency: {', '.join(sorted(w.ward_code for w in taken))}")
    agency.wards = serving(agency, codes)


def save_agency(session: Session, actor: Actor, code: str, values: dict[str, Any], *, create: bool) -> Agency:
    with transaction(session):
        agency = session.scalar(select(Agency).where(Agency.code == code).options(selectinload(Agency.wards)))
        if create and agency is not None:
            raise Conflict(f"agency {code} exists")
        if not create and agency is None:
            raise NotFound(f"agency {code} not found")
        if agency is None:
            agency = Agency(code=code, active=True, wards=[])
            session.add(agency)
        for name, value in values.items():
            if name == "parent_code":
                agency.parent_id = get_agency(session, value).id if value else None
            elif name == "ward_codes":
                _serve_wards(session, agency, value)
            else:
                setattr(agency, name, value)
        session.flush()
        bump_revision(session)
        audit.record(session, actor, f"catalog.agency.{'create' if create else 'update'}", "agency", code, values)
        return agency
