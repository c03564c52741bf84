"""The catalog a dossier's moves check, kept in process: each procedure's required documents and form schema.

Only a catalog change changes them, and every catalog change bumps the catalog revision
(services.province.catalog.bump_revision). A write's locked SELECT reads the revision with the dossier
(`revision_columns`), and `fill` sets the procedure's required documents and form schema from here: a
submit reads neither from the database. Entries are keyed by the procedure's id and the revision with
the moment it was bumped, so the move after a catalog change sees the change, and a revision number
that a rolled-back change had used (the tests) or another database in the same process never
finds an old entry.

The cached documents are detached objects nobody changes; a session gets its own copies through
`merge(load=False)`, which issues no SQL. The cached form schema is shared, so it is read, never
changed in place (the catalog's admin replaces a schema whole).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from services.models import CatalogRevision, Procedure, RequiredDocument

Revision = tuple[int | None, datetime | None]
Entry = tuple[tuple[RequiredDocument, ...], dict[str, Any]]
SIZE = 1024  # procedures × revisions kept; a province has a few hundred procedures
_DOCUMENT_COLUMNS = (RequiredDocument.id, RequiredDocument.procedure_id, RequiredDocument.type,
                     RequiredDocument.name, RequiredDocument.mandatory, RequiredDocument.position)


def revision_columns() -> tuple[Any, Any]:
    """The catalog's revision and when it was bumped, as two columns to add to a SELECT."""
    row = CatalogRevision.id == 1
    return (select(CatalogRevision.revision).where(row).scalar_subquery(),
            select(CatalogRevision.changed_at).where(row).scalar_subquery())


class CatalogCache:
    """A bounded LRU of (procedure id, revision, bumped at) → (required documents, form schema)."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, int | None, datetime | None], Entry] = OrderedDict()
        self._lock = threading.Lock()

    def fill(self, session: Session, procedure: Procedure, revision: Revision) -> None:
        """Set the procedure's required documents and form schema where this session has not loaded them."""
        unloaded = inspect(procedure).unloaded
        documents, schema = "required_documents" in unloaded, "form_schema" in unloaded
        if not (documents or schema):
            return
        entry = self._entry(session, procedure.id, revision)
        if documents:
            set_committed_value(procedure, "required_documents",
                                [session.merge(d, load=False) for d in entry[0]])
        if schema:
            set_committed_value(procedure, "form_schema", entry[1])

    def _entry(self, session: Session, procedure_id: str, revision: Revision) -> Entry:
        key = (procedure_id, *revision)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
        entry = _load(session, procedure_id)
        if revision[0] is not None:  # a catalog never bumped (not seeded yet) is not cached
            with self._lock:
                self._entries[key] = entry
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return entry


def _load(session: Session, procedure_id: str) -> Entry:
    """Read once per procedure and revision. On PostgreSQL these reads may see a change committed since the
    revision was read: the entry is then newer than its key, never older, and the next move sees a new key."""
    schema = session.execute(select(Procedure.form_schema).where(Procedure.id == procedure_id)).scalar_one()
    documents = []
    for row in session.execute(select(*_DOCUMENT_COLUMNS).where(RequiredDocument.procedure_id == procedure_id)
                               .order_by(RequiredDocument.position)):
        document = RequiredDocument(**row._mapping)
        make_transient_to_detached(document)  # as if loaded, in no session
        documents.append(document)
    return tuple(documents), schema


CATALOG = CatalogCache()  # one per process: entries are keyed by what they were read from
