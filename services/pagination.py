"""Keyset pagination: a page is the rows after a key, so page 1,000 costs what page 1 costs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, bindparam, literal, literal_column, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from services.errors import ValidationFailed

T = TypeVar("T")
Key = tuple[Any, ...]

MAX_LIMIT = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_key: Key | None


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed("invalid cursor", errors={"cursor": ["Not a cursor issued by this list."]})


def _coerce(column: Any, value: Any) -> Any:
    """A cursor value back to the column's type; anything that does not fit is a forged cursor."""
    type_ = column.type
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    try:
        python_type = type_.python_type
    except NotImplementedError:
        python_type = object
    if python_type is datetime:
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError) as exc:
            raise _bad_cursor() from exc
        if parsed.tzinfo is None:
            raise _bad_cursor()
        return parsed
    if python_type in (int, str) and (not isinstance(value, python_type) or isinstance(value, bool)):
        raise _bad_cursor()
    return value


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed("invalid limit", errors={"limit": [f"Must be between 1 and {MAX_LIMIT}."]})


def after_values(columns: Sequence[Any], after: Sequence[Any]) -> list[Any]:
    """A cursor's values, each checked against its column and brought back to its type."""
    if not isinstance(after, (list, tuple)) or len(after) != len(columns):
        raise _bad_cursor()
    return [_coerce(col, val) for col, val in zip(columns, after, strict=True)]


def after_key(columns: Sequence[Any], after: Sequence[Any], *, descending: bool = False) -> Any:
    """The condition "the row's key comes after `after`" (a cursor's values, checked against the columns)."""
    # Bound with each column's own type, so a datetime compares as the column stores it.
    values = [literal(v, col.type) for col, v in zip(columns, after_values(columns, after), strict=True)]
    row_key = tuple_(*columns)
    return row_key < tuple_(*values) if descending else row_key > tuple_(*values)


# Statements built once per shape (the WSGI edge's reads and the dossier lists): the cursor's values and the
# page size go in at each run, not into a new statement.

def after_bound(columns: Sequence[Any], *, descending: bool) -> Any:
    """The keyset condition with the cursor's values as bind parameters `after_0`, `after_1`… (see
    `bound_after`)."""
    row_key = tuple_(*columns)
    cursor = tuple_(*(bindparam(f"after_{i}", type_=col.type) for i, col in enumerate(columns)))
    return row_key < cursor if descending else row_key > cursor


def bound_after(columns: Sequence[Any], after: Sequence[Any] | None, limit: int) -> dict[str, Any]:
    """The values of `after_bound`'s parameters for a cursor (checked against the columns), and the limit
    checked."""
    check_limit(limit)
    values = after_values(columns, after) if after is not None else ()
    return {f"after_{i}": v for i, v in enumerate(values)}


def page_limit(rows: int) -> Any:
    """A page's LIMIT written into the statement (one statement per page size): PostgreSQL's generic plan
    of a prepared statement then knows a page is a few rows, not a tenth of the table, and keeps the
    nested loops of a custom plan (at a million dossiers a bound LIMIT made it hash-join instead)."""
    return literal_column(str(int(rows)))


def paged(rows: Sequence[T], limit: int, key_of: Callable[[T], Key]) -> Page[T]:
    """The page of `limit + 1` rows read: `limit` of them, and the key of the last when there are more."""
    items = list(rows[:limit])
    return Page(items, key_of(items[-1]) if len(rows) > limit and items else None)


def keyset_page(
    session: Session,
    stmt: Select[Any],
    columns: Sequence[Any],
    key_of: Callable[[Any], Key],
    *,
    after: Sequence[Any] | None,
    limit: int,
    descending: bool = False,
) -> Page[Any]:
    """Rows of `stmt` ordered by `columns` (unique together), starting after the key `after`."""
    check_limit(limit)
    if after is not None:
        stmt = stmt.where(after_key(columns, after, descending=descending))
    order = [col.desc() if descending else col.asc() for col in columns]
    return paged(list(session.scalars(stmt.order_by(*order).limit(limit + 1)).unique()), limit, key_of)
