"""The lifecycle engine: a table of transitions that runs its own checks, effects and notices.

A lifecycle (dossiers today, field reports next) is one `Lifecycle` built from a table of
`Transition`s and the named rules the table refers to. Every name is resolved when the table is
built, at import: a requirement, input, effect or audience that resolves to nothing is a
`LifecycleError`, never a rule silently switched off. `apply` makes one move: who may act, the
inputs, the requirements, the effect, the new status, then the subject's own record (timeline,
audit) and whom it tells, all inside the caller's transaction. An effect or the record may leave
rows (`Move.rows`) for `tell` to write with the notices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from services.actors import Actor
from services.calendar import WorkingCalendar
from services.errors import DomainError, InvalidTransition, ValidationFailed
from services.rows import Written
from vocab import ActorKind

S = TypeVar("S")

STAY = "="  # the action records something without changing the status
RESUME = "<"  # back to the status the subject had before it was paused


class LifecycleError(Exception):
    """A lifecycle table that refers to something that does not exist."""


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    actor: ActorKind
    # States that must hold (named requirements), inputs the caller must give, the effect, and
    # the audiences told with the kind of notice each gets.
    requires: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    effect: str | None = None
    tells: tuple[tuple[str, str], ...] = ()
    # Offered in allowed_actions (a move made through its own endpoint or by the system is not).
    listed: bool = True


@dataclass
class Move(Generic[S]):
    """One move being made: what the effect, the record and the notices are given."""

    session: Session
    subject: S
    actor: Actor
    transition: Transition
    now: datetime
    calendar: WorkingCalendar | None
    inputs: Mapping[str, Any]
    before: str = ""
    after: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Rows the effect and the record leave to be written with the notices (a desk document, the event, the
    # audit entry), so that `tell` writes them all at once (one statement on PostgreSQL); `tell` is called
    # for a move that leaves rows even when the transition tells no one.
    rows: list[Written] = field(default_factory=list)

    @property
    def action(self) -> str:
        return self.transition.action

    @property
    def cal(self) -> WorkingCalendar:
        if self.calendar is None:
            raise LifecycleError(f"{self.action} needs the working calendar")
        return self.calendar


@dataclass(frozen=True)
class Requirement(Generic[S]):
    """A state that must hold: `check` answers the error to raise, or None when it holds.
    `listed` ones (cheap state checks) are also consulted for allowed_actions."""

    check: Callable[[Move[S]], DomainError | None]
    listed: bool = True


# An input check returns the messages for its field (empty when the input is fine).
InputCheck = Callable[[Move[Any], Any], list[str]]
Effect = Callable[[Move[Any]], None]
# Whom an audience names: user ids (an agency's officials among them: services.notices.inbox.Officials), or a
# SELECT of them (services.notices.inbox.Recipients).
Audience = Callable[[Move[Any]], Iterable[str] | Select[Any]]


def transition(action: str, sources: Iterable[str], target: str, actor: ActorKind, *,
               requires: Iterable[str] = (), inputs: Iterable[str] = (), effect: str | None = None,
               tells: Iterable[tuple[str, str]] = (), listed: bool = True) -> Transition:
    return Transition(action, frozenset(sources), target, actor, tuple(requires), tuple(inputs), effect,
                      tuple(tells), listed)


class Lifecycle(Generic[S]):
    """One table and the rules it names; built once, at import."""

    def __init__(self, name: str, statuses: type[StrEnum], table: Iterable[Transition], *,
                 requirements: Mapping[str, Requirement[S]], inputs: Mapping[str, InputCheck],
                 effects: Mapping[str, Effect], audiences: Mapping[str, Audience],
                 authorize: Callable[[Actor, S, Transition], bool],
                 status_of: Callable[[S], str], resume_of: Callable[[S], str | None],
                 set_status: Callable[[Move[S]], None], record: Callable[[Move[S]], None],
                 tell: Callable[[Move[S], list[tuple[Any, str]]], None]) -> None:
        self.name = name
        self.statuses = statuses
        self.table = tuple(table)
        self.by_action = {t.action: t for t in self.table}
        self.requirements, self.inputs, self.effects, self.audiences = requirements, inputs, effects, audiences
        self._authorize, self._status_of, self._resume_of = authorize, status_of, resume_of
        self._set_status, self._record, self._tell = set_status, record, tell
        self._check_table()

    def _check_table(self) -> None:
        known = {s.value for s in self.statuses}
        if len(self.by_action) != len(self.table):
            raise LifecycleError(f"{self.name}: an action appears twice")
        for t in self.table:
            where = f"{self.name}.{t.action}"
            if not t.sources <= known or t.target not in known | {STAY, RESUME}:
                raise LifecycleError(f"{where}: unknown status in {sorted(t.sources)} → {t.target}")
            for kind, names, registry in (("requirement", t.requires, self.requirements),
                                          ("input", t.inputs, self.inputs),
                                          ("effect", (t.effect,) if t.effect else (), self.effects),
                                          ("audience", tuple(a for a, _ in t.tells), self.audiences)):
                for name in names:
                    if name not in registry:
                        raise LifecycleError(f"{where}: the {kind} {name!r} resolves to nothing")

    # --- reading the table ----------------------------------------------------------------------

    def allows(self, status: str, action: str) -> bool:
        """Whether an action may be taken from a status: the one place other code asks."""
        return status in self.by_action[action].sources

    def actions_of(self, actor: ActorKind) -> tuple[str, ...]:
        return tuple(t.action for t in self.table if t.actor == actor and t.listed)

    def target_of(self, t: Transition, subject: S) -> str:
        status = self._status_of(subject)
        if t.target == STAY:
            return status
        if t.target == RESUME:
            resume = self._resume_of(subject)
            if resume is None:
                raise LifecycleError(f"{self.name}.{t.action}: nothing to resume")
            return resume
        return t.target

    def transition_for(self, subject: S, action: str, actor: Actor) -> Transition:
        t = self.by_action.get(action)
        status = self._status_of(subject)
        if t is None or status not in t.sources or not self._authorize(actor, subject, t):
            raise InvalidTransition(f"cannot {action} a {self.name} that is {status}")
        return t

    def allowed_actions(self, session: Session | None, subject: S, actor: Actor, now: datetime) -> list[str]:
        status = self._status_of(subject)
        allowed = []
        for t in self.table:
            if not t.listed or status not in t.sources or not self._authorize(actor, subject, t):
                continue
            move = Move(session, subject, actor, t, now, None, {})  # type: ignore[arg-type]
            if all(self.requirements[r].check(move) is None for r in t.requires if self.requirements[r].listed):
                allowed.append(t.action)
        return allowed

    # --- making a move --------------------------------------------------------------------------

    def apply(self, session: Session, subject: S, action: str, actor: Actor, *, now: datetime,
              calendar: WorkingCalendar | None = None, extra: Mapping[str, Any] | None = None,
              **inputs: Any) -> Move[S]:
        """Make one move inside the caller's transaction; raises a domain error and changes nothing
        when the actor, an input or a requirement says no. `extra` hands the effects what they need
        beyond the subject (e.g. the storage a document is written to)."""
        t = self.transition_for(subject, action, actor)
        move = Move(session, subject, actor, t, now, calendar, inputs, extra=dict(extra or {}))
        errors: dict[str, list[str]] = {}
        for name in t.inputs:
            if messages := self.inputs[name](move, inputs.get(name)):
                errors[name] = messages
        if errors:
            raise ValidationFailed(f"{action} needs more", errors=errors)
        for name in t.requires:
            if (error := self.requirements[name].check(move)) is not None:
                raise error
        move.before = self._status_of(subject)
        move.after = self.target_of(t, subject)
        if t.effect:
            self.effects[t.effect](move)
        self._set_status(move)
        self._record(move)
        if t.tells or move.rows:
            self._tell(move, [(self.audiences[audience](move), kind) for audience, kind in t.tells])
        session.flush()
        return move
