"""The lifecycle engine: a table that names a rule it does not have is refused at import, and a
second lifecycle (a field report's) is a second table on the same engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pytest

from services.actors import Actor
from services.dossiers.lifecycle import DOSSIER
from services.errors import Conflict, InvalidTransition, ValidationFailed
from services.lifecycle import STAY, Lifecycle, LifecycleError, Move, Requirement, transition
from vocab import ActorKind, DossierStatus

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CITIZEN = Actor(user_id="u1", role="citizen")
OFFICIAL = Actor(user_id="o1", role="official", agency_code="A")


class ReportStatus(StrEnum):
    new = "new"
    accepted = "accepted"
    resolved = "resolved"


@dataclass
class Report:
    owner: str
    status: str = ReportStatus.new
    photos: int = 0
    log: list[tuple[str, str, str]] = field(default_factory=list)
    told: list[tuple[list[str], str]] = field(default_factory=list)
    resolved_at: datetime | None = None


class FakeSession:
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1


def _set_status(move: Move[Report]) -> None:
    move.subject.status = move.after


def _resolve(move: Move[Report]) -> None:
    move.subject.resolved_at = move.now


def reports(table: list[Any], **overrides: Any) -> Lifecycle[Report]:
    rules: dict[str, Any] = dict(
        requirements={"has_photo": Requirement(lambda m: None if m.subject.photos else Conflict("a photo first"))},
        inputs={"note": lambda m, v: [] if v else ["Required."]},
        effects={"resolve": _resolve},
        audiences={"reporter": lambda m: [m.subject.owner]},
    )
    rules.update(overrides)
    return Lifecycle(
        "report", ReportStatus, table, **rules,
        authorize=lambda actor, r, t: (actor.user_id == r.owner) if t.actor == ActorKind.citizen
        else actor.role == "official",
        status_of=lambda r: r.status, resume_of=lambda r: None, set_status=_set_status,
        record=lambda m: m.subject.log.append((m.action, m.before, m.after)),
        tell=lambda m, tells: m.subject.told.extend(tells))


TABLE = [
    transition("accept", {ReportStatus.new}, ReportStatus.accepted, ActorKind.official,
               tells=(("reporter", "report.accepted"),)),
    transition("resolve", {ReportStatus.accepted}, ReportStatus.resolved, ActorKind.official,
               requires=("has_photo",), inputs=("note",), effect="resolve", tells=(("reporter", "report.resolved"),)),
    transition("comment", set(ReportStatus), STAY, ActorKind.citizen),
]


@pytest.mark.parametrize("broken, message", [
    (transition("x", {"new"}, "accepted", ActorKind.official, requires=("form_vaild",)), "requirement 'form_vaild'"),
    (transition("x", {"new"}, "accepted", ActorKind.official, inputs=("reson",)), "input 'reson'"),
    (transition("x", {"new"}, "accepted", ActorKind.official, effect="recieve"), "effect 'recieve'"),
    (transition("x", {"new"}, "accepted", ActorKind.official, tells=(("mayor", "k"),)), "audience 'mayor'"),
    (transition("x", {"new"}, "archived", ActorKind.official), "unknown status"),
])
def test_a_name_that_resolves_to_nothing_is_an_error_when_the_table_is_built(broken, message):
    with pytest.raises(LifecycleError, match=message):
        reports([*TABLE, broken])


def test_an_action_listed_twice_is_refused():
    with pytest.raises(LifecycleError, match="twice"):
        reports([*TABLE, TABLE[0]])


def test_a_second_lifecycle_runs_its_own_rules_on_the_same_engine():
    engine, session = reports(TABLE), FakeSession()
    report = Report(owner="u1")
    assert engine.allowed_actions(None, report, OFFICIAL, NOW) == ["accept"]
    assert engine.allowed_actions(None, report, CITIZEN, NOW) == ["comment"]
    with pytest.raises(InvalidTransition):
        engine.apply(session, report, "accept", CITIZEN, now=NOW)  # type: ignore[arg-type]
    engine.apply(session, report, "accept", OFFICIAL, now=NOW)  # type: ignore[arg-type]
    assert report.status == "accepted" and report.told == [(["u1"], "report.accepted")]
    # A listed requirement hides the action, then refuses it with its own error; an input is checked first.
    assert engine.allowed_actions(None, report, OFFICIAL, NOW) == []
    with pytest.raises(ValidationFailed) as missing:
        engine.apply(session, report, "resolve", OFFICIAL, now=NOW)  # type: ignore[arg-type]
    assert missing.value.errors == {"note": ["Required."]}
    with pytest.raises(Conflict):
        engine.apply(session, report, "resolve", OFFICIAL, now=NOW, note="fixed")  # type: ignore[arg-type]
    assert report.status == "accepted" and report.resolved_at is None and len(report.log) == 1
    report.photos = 1
    engine.apply(session, report, "resolve", OFFICIAL, now=NOW, note="fixed")  # type: ignore[arg-type]
    assert (report.status, report.resolved_at) == ("resolved", NOW)
    assert report.log == [("accept", "new", "accepted"), ("resolve", "accepted", "resolved")]
    assert session.flushes == 2


def test_the_dossier_table_answers_what_other_code_asks():
    assert DOSSIER.allows(DossierStatus.draft, "update") and DOSSIER.allows(DossierStatus.supplement_requested,
                                                                            "attach")
    assert not DOSSIER.allows(DossierStatus.received, "update")
    assert DOSSIER.by_action["pay"].sources == {"submitted", "received", "in_progress", "supplement_requested",
                                                "approved"}
    # Every requirement, input, effect and audience the dossier table names exists (checked at import).
    for t in DOSSIER.table:
        assert set(t.requires) <= set(DOSSIER.requirements) and set(t.inputs) <= set(DOSSIER.inputs)
