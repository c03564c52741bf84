"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from services.models.catalog import (
    Agency,
    AgencyLevel,
    CatalogRevision,
    OnlineLevel,
    Procedure,
    ProcedureGroup,
    ProcedureGroupMember,
    RequiredDocument,
)

__all__ = [
    "Agency",
    "AgencyLevel",
    "CatalogRevision",
    "OnlineLevel",
    "Procedure",
    "ProcedureGroup",
    "ProcedureGroupMember",
    "RequiredDocument",
]
