"""Rows as data: what a unit of work hands to the one statement that writes it with others
(services.lifecycle.Move.rows, services.notices.inbox.notify_all), instead of ORM objects for the unit of work
to flush one statement each.

A `Row` is an INSERT; a `Change` an UPDATE of one row found by its key and the version read, as the ORM's
own UPDATE would be. `pending_change` turns what a move changed on a loaded object into a Change and tells
the session it is written, so the flush does not write it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import inspect, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from services.db import dialect_insert


class Row(NamedTuple):
    """A row to INSERT (a model and its columns), with ON CONFLICT (`conflict`) DO NOTHING when a key is given."""

    model: Any
    values: dict[str, Any]
    conflict: tuple[str, ...] = ()


class Change(NamedTuple):
    """A row to UPDATE: `where` finds it (its key and the version read), `values` are what it becomes; exactly
    one row must match (`checked`)."""

    model: Any
    where: dict[str, Any]
    values: dict[str, Any]


Written = Row | Change


def statement(session: Session, row: Written) -> Any:
    """The row's INSERT or UPDATE on the session's dialect."""
    if isinstance(row, Change):
        return built(dialect_insert(session), row.model, row.values, where=row.where)
    return built(dialect_insert(session), row.model, row.values, conflict=row.conflict)


def built(insert_of: Any, model: Any, values: dict[str, Any], *, where: dict[str, Any] | None = None,
          conflict: Sequence[str] = ()) -> Any:
    """A Row's INSERT (`insert_of`: a dialect's INSERT construct, with ON CONFLICT) or, given `where` (column →
    value), a Change's UPDATE; values literal or bind parameters (services.notices.inbox builds its statement
    once, with parameters)."""
    if where is not None:
        table = model.__table__
        return update(table).where(*(table.c[c] == v for c, v in where.items())).values(values)
    stmt = insert_of(model).values(values)
    return stmt.on_conflict_do_nothing(index_elements=list(conflict)) if conflict else stmt


def checked(changes: int, matched: int) -> None:
    """A Change whose row was not there as read (another transaction moved its version on) is the ORM's own
    StaleDataError; a move loads its subject locked, so it means a bug, and the transaction rolls back."""
    if matched != changes:
        raise StaleDataError(f"{changes} row(s) to update, {matched} matched")


def row_of(obj: Any) -> Row:
    """A new (transient) object's columns as a Row: every column, as set on it (None where not set)."""
    mapper = inspect(type(obj))
    return Row(type(obj), {prop.columns[0].name: getattr(obj, prop.key) for prop in mapper.column_attrs})


def pending_change(obj: Any) -> Change | None:
    """What the unit of work would UPDATE on this loaded object (its changed columns, and its version moved
    on by one as the mapper's counter does), as a Change; the object is then as if flushed: the session
    writes none of it again, and a later change is a later UPDATE from the new version. None when nothing
    changed."""
    state = inspect(obj)
    mapper = state.mapper
    unmodified = state.unmodified
    changed = [prop for prop in mapper.column_attrs if prop.key not in unmodified]
    if not changed:
        return None
    values = {prop.columns[0].name: getattr(obj, prop.key) for prop in changed}
    where = {column.name: value for column, value in zip(mapper.primary_key, mapper.primary_key_from_instance(obj),
                                                          strict=True)}
    version = mapper.version_id_col
    if version is not None:
        key = mapper.get_property_by_column(version).key
        where[version.name] = getattr(obj, key)
        values[version.name] = where[version.name] + 1
        set_committed_value(obj, key, values[version.name])
    for prop in changed:
        set_committed_value(obj, prop.key, getattr(obj, prop.key))
    if not state.committed_state and state.session is not None:
        # Nothing else is pending (a relationship): the object is clean again, so the session's flushes
        # have nothing to walk (a unit of work with a topological sort each, a tenth of a submit).
        state._commit_all(state.dict, state.session.identity_map)  # noqa: SLF001
    return Change(type(obj), where, values)
