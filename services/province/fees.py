"""Fees as the law computes them: flat, per copy, or per page with a cheaper rate from a page on and a
cap per copy (Circular 226/2016/TT-BTC for certified copies). Integers in VND."""

from __future__ import annotations

from typing import Any

from services.errors import ValidationFailed
from vocab import FeeKind


def base_amount(fee: dict[str, Any]) -> int:
    """The amount lists show: one copy, or the first page."""
    return int(fee["first_vnd"] if fee["kind"] == FeeKind.per_page else fee["amount_vnd"])


def _quantity(form: dict[str, Any], name: str, *, default: int | None = None) -> int:
    value = form.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationFailed(f"the fee needs a whole number of {name}, at least 1",
                               errors={f"form.{name}": ["Must be a whole number, at least 1."]})
    return value


def amount(fee: dict[str, Any] | None, form: dict[str, Any], *, base_vnd: int = 0) -> int:
    """What a dossier with this form pays; ValidationFailed when the form's quantity is missing or < 1."""
    if not fee:
        return base_vnd
    kind = FeeKind(fee["kind"])
    if kind == FeeKind.flat:
        return int(fee["amount_vnd"])
    if kind == FeeKind.per_copy:
        return int(fee["amount_vnd"]) * _quantity(form, "copies")
    pages = _quantity(form, "pages")
    first = min(pages, fee["first_pages"])
    per_copy = min(first * fee["first_vnd"] + (pages - first) * fee["then_vnd"], fee["cap_vnd"])
    return int(per_copy) * _quantity(form, "copies", default=1)


def quote(fee: dict[str, Any] | None, form: dict[str, Any], *, base_vnd: int) -> int:
    """The amount to show while the form is still being filled: the base amount until it is computable."""
    try:
        return amount(fee, form, base_vnd=base_vnd)
    except ValidationFailed:
        return base_vnd
