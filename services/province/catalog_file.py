"""Reading a province's catalog from its data file (JSON), every row checked before anything is loaded.

The shape is services/seed_data/danang.json's: `agencies`, `procedures` and `groups`. A broken row is named
(`procedures[3] 1.001193: …`) and the whole file is refused, so a half-loaded catalog cannot happen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import jsonschema

from services.errors import ValidationFailed
from services.people.cccd import FORMAT_CHECKER
from vocab import AgencyLevel, FeeKind, OnlineLevel, ProcedureLevel

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "seed_data" / "danang.json"
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_CODE = re.compile(r"^[0-9A-Za-z.\-_]{1,40}$")

Check = Callable[[Any], str | None]


def _text(limit: int) -> Check:
    return lambda v: None if isinstance(v, str) and 0 < len(v) <= limit and "\x00" not in v else (
        f"a text of 1–{limit} characters")


def _one_of(words: type[StrEnum]) -> Check:
    return lambda v: None if v in {w.value for w in words} else f"one of {', '.join(w.value for w in words)}"


def _number(v: Any) -> str | None:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 365 and v * 2 == int(v * 2)
    return None if ok else "a number of working days ≥ 0, in halves"


def _vnd(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 1_000_000_000


def fee_problem(fee: Any) -> str | None:
    """What is wrong with a fee rule (None when it is one of the three the law uses)."""
    if not isinstance(fee, dict) or fee.get("kind") not in {k.value for k in FeeKind}:
        return "a fee {kind: flat|per_copy|per_page, …}"
    keys = {"flat": {"amount_vnd"}, "per_copy": {"amount_vnd"},
            "per_page": {"first_pages", "first_vnd", "then_vnd", "cap_vnd"}}[fee["kind"]]
    if set(fee) != keys | {"kind"} or not all(_vnd(fee[k]) for k in keys):
        return f"a {fee['kind']} fee has exactly {', '.join(sorted(keys))} (whole VND ≥ 0)"
    return None


def _schema(v: Any) -> str | None:
    if not isinstance(v, dict):
        return "a JSON Schema object"
    try:
        jsonschema.Draft202012Validator.check_schema(v, format_checker=FORMAT_CHECKER)
    except jsonschema.SchemaError as exc:
        return f"not a valid JSON Schema: {exc.message}"
    return None


AGENCY: dict[str, Check] = {
    "code": lambda v: None if isinstance(v, str) and _CODE.match(v) else "an agency identifier",
    "name": _text(200), "level": _one_of(AgencyLevel),
    "parent_code": lambda v: None if v is None or isinstance(v, str) else "an agency code or null",
    "is_centre": lambda v: None if isinstance(v, bool) else "true or false",
    "ward_codes": lambda v: None if isinstance(v, list) and all(isinstance(w, str) and 0 < len(w) <= 10 for w in v)
    else "a list of ward codes",
}
PROCEDURE: dict[str, Check] = {
    "code": lambda v: None if isinstance(v, str) and _CODE.match(v) else "a procedure code",
    "name": _text(300), "name_en": _text(300),
    "field": _text(120), "level": _one_of(ProcedureLevel), "agency_code": _text(40),
    "competent": lambda v: None if v == "level" or (isinstance(v, list) and all(isinstance(c, str) for c in v))
    else '"level" or a list of agency codes',
    "processing_days": _number,
    "variants": lambda v: None if isinstance(v, list) and all(
        isinstance(x, dict) and set(x) == {"code", "name", "processing_days"} and _number(x["processing_days"]) is None
        and isinstance(x["code"], str) and isinstance(x["name"], str) for x in v)
    else "a list of {code, name, processing_days}",
    "fee": fee_problem,
    "cutoff_time": lambda v: None if v is None or (isinstance(v, str) and _TIME.match(v)) else "HH:MM or null",
    "online_level": _one_of(OnlineLevel),
    "min_eid_level": lambda v: None if v in (1, 2) and not isinstance(v, bool) else "1 or 2",
    "description": lambda v: None if isinstance(v, str) else "a text",
    "required_documents": lambda v: None if isinstance(v, list) and all(
        isinstance(d, dict) and set(d) == {"type", "name", "mandatory"} and isinstance(d["mandatory"], bool)
        and isinstance(d["type"], str) and isinstance(d["name"], str) for d in v)
    and len({d["type"] for d in v}) == len(v) else "a list of {type, name, mandatory} with distinct types",
    "form_schema": _schema,
}
# Fields a row may leave out (every other one is required).
OPTIONAL = frozenset({"name_en"})
GROUP: dict[str, Check] = {
    "code": lambda v: None if isinstance(v, str) and _CODE.match(v) else "a group code",
    "name": _text(300),
    "procedure_codes": lambda v: None if isinstance(v, list) and v and all(isinstance(c, str) for c in v)
    else "a list of procedure codes",
    "form_schema": _schema,
}


def _rows(data: dict[str, Any], section: str, fields: dict[str, Check], errors: dict[str, list[str]]) -> list[Any]:
    rows = data.get(section)
    if not isinstance(rows, list):
        errors[section] = ["a list"]
        return []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        where = f"{section}[{index}]"
        if not isinstance(row, dict):
            errors[where] = ["an object"]
            continue
        where = f"{where} {row.get('code', '?')}"
        problems = [f"unknown field {k}" for k in row if k not in fields]
        problems += [f"{name}: {problem}" for name, check in fields.items()
                     if (problem := check(row.get(name)) if name in row
                         else None if name in OPTIONAL else "required") is not None]
        if row.get("code") in seen:
            problems.append("code given twice")
        seen.add(str(row.get("code")))
        if problems:
            errors[where] = problems
    return rows


def _references(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    agencies = {a.get("code") for a in data.get("agencies", []) if isinstance(a, dict)}
    procedures = {p.get("code") for p in data.get("procedures", []) if isinstance(p, dict)}
    for index, a in enumerate(data.get("agencies", [])):
        if isinstance(a, dict) and a.get("parent_code") is not None and a["parent_code"] not in agencies:
            errors.setdefault(f"agencies[{index}] {a.get('code')}", []).append(f"unknown parent {a['parent_code']}")
    for index, p in enumerate(data.get("procedures", [])):
        if not isinstance(p, dict):
            continue
        named = [p.get("agency_code")] + (p["competent"] if isinstance(p.get("competent"), list) else [])
        if unknown := [c for c in named if c not in agencies]:
            errors.setdefault(f"procedures[{index}] {p.get('code')}", []).append(
                f"unknown agency {', '.join(map(str, unknown))}")
    for index, g in enumerate(data.get("groups", [])):
        codes = g.get("procedure_codes") if isinstance(g, dict) else None
        if isinstance(codes, list) and (unknown := [c for c in codes if c not in procedures]):
            errors.setdefault(f"groups[{index}] {g.get('code')}", []).append(
                f"unknown procedure {', '.join(map(str, unknown))}")


def read(path: Path | str = DEFAULT_FILE) -> dict[str, Any]:
    """The checked catalog of a data file; ValidationFailed naming every broken row otherwise."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationFailed(f"cannot read the catalog file: {exc}", errors={"file": [str(exc)]}) from exc
    if not isinstance(data, dict):
        raise ValidationFailed("the catalog file holds no object", errors={"file": ["an object"]})
    errors: dict[str, list[str]] = {}
    for section, fields in (("agencies", AGENCY), ("procedures", PROCEDURE), ("groups", GROUP)):
        _rows(data, section, fields, errors)
    if not errors:
        _references(data, errors)
    if errors:
        first = next(iter(errors))
        raise ValidationFailed(f"the catalog file has {len(errors)} broken row(s), first {first}: "
                               f"{'; '.join(errors[first])}", errors=errors)
    return data
