"""Load a province's catalog from its data file, idempotently: a second run changes and bumps nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, selectinload

from services.db import transaction
from services.models import Agency, Procedure, ProcedureGroup, ProcedureGroupMember, RequiredDocument
from services.province import catalog_file, fees
from services.province.catalog import bump_revision, catalog_revision, serving
from services.province.catalog_file import DEFAULT_FILE
from services.text import fold


@dataclass
class SeedReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, state: str) -> None:
        setattr(self, state, getattr(self, state) + 1)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _upsert(session: Session, model: Any, code: str, values: dict[str, Any], *load: Any) -> tuple[Any, str]:
    obj = session.scalar(select(model).where(model.code == code).options(*load))
    if obj is None:
        obj = model(code=code, **values)
        for relation in inspect(model).relationships:  # a new row's collections are empty, not unloaded
            if relation.uselist and relation.key not in values:
                setattr(obj, relation.key, [])
        session.add(obj)
        state = "created"
    else:
        state = "updated" if _assign(obj, values) else "unchanged"
    session.flush()
    return obj, state


def _sync_documents(procedure: Procedure, wanted: list[dict[str, Any]]) -> bool:
    current = [(d.type, d.name, d.mandatory) for d in procedure.required_documents]
    target = [(d["type"], d["name"], d["mandatory"]) for d in wanted]
    if current == target:
        return False
    procedure.required_documents.clear()
    procedure.required_documents.extend(
        RequiredDocument(type=t, name=n, mandatory=m, position=i) for i, (t, n, m) in enumerate(target)
    )
    return True


def _sync_wards(agency: Agency, wanted: list[str]) -> bool:
    if agency.ward_codes == sorted(wanted):
        return False
    agency.wards = serving(agency, wanted)
    return True


def _sync_competent(procedure: Procedure, wanted: list[Agency]) -> bool:
    if [a.code for a in procedure.competent] == sorted(a.code for a in wanted):
        return False
    procedure.competent = sorted(wanted, key=lambda a: a.code)
    return True


def _procedure_values(item: dict[str, Any], agencies: dict[str, Agency]) -> dict[str, Any]:
    values = {k: item[k] for k in ("name", "field", "level", "processing_days", "variants", "fee", "cutoff_time",
                                   "online_level", "min_eid_level", "description", "form_schema")}
    values.update(name_en=item.get("name_en"), search_name=fold(item["name"]),
                  agency_id=agencies[item["agency_code"]].id, by_level=item["competent"] == "level",
                  fee_vnd=fees.base_amount(item["fee"]),
                  processing_days=float(item["processing_days"]))
    return values


def seed_catalog(session: Session, path: Path | str = DEFAULT_FILE) -> SeedReport:
    """Load a catalog file (services/seed_data/danang.json by default): every row checked first, then all
    of it in one transaction; a second load of the same file changes nothing."""
    data = catalog_file.read(path)
    report = SeedReport()
    with transaction(session):
        agencies: dict[str, Agency] = {}
        for item in data["agencies"]:
            parent = agencies[item["parent_code"]] if item["parent_code"] else None
            agency, state = _upsert(session, Agency, item["code"], {
                "name": item["name"], "level": item["level"], "parent_id": parent.id if parent else None,
                "is_centre": item["is_centre"]}, selectinload(Agency.wards))
            if _sync_wards(agency, item["ward_codes"]) and state == "unchanged":
                state = "updated"
            agencies[item["code"]] = agency
            report.count(state)
        procedures: dict[str, Procedure] = {}
        for item in data["procedures"]:
            proc, state = _upsert(session, Procedure, item["code"], _procedure_values(item, agencies),
                                  selectinload(Procedure.required_documents), selectinload(Procedure.competent))
            listed = [] if item["competent"] == "level" else [agencies[c] for c in item["competent"]]
            if (_sync_documents(proc, item["required_documents"]) | _sync_competent(proc, listed)
                    and state == "unchanged"):
                state = "updated"
            report.count(state)
            procedures[item["code"]] = proc
        for item in data["groups"]:
            group, state = _upsert(session, ProcedureGroup, item["code"],
                                   {"name": item["name"], "form_schema": item["form_schema"]})
            if [m.procedure.code for m in group.members] != item["procedure_codes"]:
                group.members.clear()
                session.flush()
                group.members.extend(ProcedureGroupMember(procedure=procedures[c], position=i)
                                     for i, c in enumerate(item["procedure_codes"]))
                state = "updated" if state == "unchanged" else state
            report.count(state)
        session.flush()
        if report.changed or catalog_revision(session) == 0:
            bump_revision(session)
    return report
