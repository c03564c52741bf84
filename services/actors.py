"""Who is acting, as the services see it (role, agency, origin), independent of how they signed in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: str
    role: str  # citizen, official or admin
    agency_code: str | None = None
    # Where the call came from (client address and request id), for the audit trail.
    origin: str = ""
