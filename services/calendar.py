"""Working days in Asia/Ho_Chi_Minh: the one calendar every deadline is computed with.

Working days are Monday–Friday minus Vietnamese public holidays (the `holidays` package), corrected by
the Government's announced day swaps kept in services/seed_data/calendar_vn.json (e.g. Friday 2/1/2026
off and Saturday 10/1/2026 worked, Official Letter 12729/VPCP-KGVX), plus the operator's own extra days
off and make-up working days (settings) for swaps announced later.

Our rules (DOMAIN.md "Deadlines"): a dossier received before the cut-off on a working day counts
from that day, otherwise from the next working day; N working days later is the due day, and
`due_at` is the end of office hours on it (N = 0: the same day). A fractional time (0.5 = four working
hours) is counted in office hours from receipt (07:30–11:30 and 13:00–17:00 unless configured).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_CUTOFF = time(15, 0)
OfficeHours = tuple[tuple[time, time], ...]
DEFAULT_HOURS: OfficeHours = ((time(7, 30), time(11, 30)), (time(13, 0), time(17, 0)))
ANNOUNCED_FILE = Path(__file__).resolve().parent / "seed_data" / "calendar_vn.json"


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


@cache
def announced() -> dict[date, tuple[bool, str]]:
    """The Government's announced days, from the calendar's data file: day → (worked?, the decision)."""
    years = json.loads(ANNOUNCED_FILE.read_text(encoding="utf-8"))["years"].values()
    return {date.fromisoformat(e["date"]): (kind == "workdays", e["reason"])
            for y in years for kind in ("days_off", "workdays") for e in y[kind]}


def parse_hours(text: str) -> OfficeHours:
    """`07:30-11:30,13:00-17:00` → the office's opening intervals, in order and not overlapping."""
    spans = []
    for part in text.split(","):
        start, _, end = part.strip().partition("-")
        spans.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
    if not spans or any(a >= b for a, b in spans) or any(spans[i][1] > spans[i + 1][0] for i in range(len(spans) - 1)):
        raise ValueError(f"office hours must be ordered HH:MM-HH:MM intervals: {text!r}")
    return tuple(spans)


def parse_window(text: str) -> tuple[time, time] | None:
    """`02:00-05:00` → a span of local hours each day (it may cross midnight: `23:00-04:00`); empty: any hour."""
    if not text.strip():
        return None
    start, _, end = text.partition("-")
    window = (time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
    if window[0] == window[1]:
        raise ValueError(f"a window must be HH:MM-HH:MM with two different times: {text!r}")
    return window


def in_window(window: tuple[time, time] | None, at: time) -> bool:
    if window is None:
        return True
    start, end = window
    return start <= at < end if start < end else (at >= start or at < end)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


class WorkingCalendar:
    def __init__(self, extra_days_off: Iterable[date] = (), makeup_workdays: Iterable[date] = (), *,
                 office_hours: OfficeHours = DEFAULT_HOURS, cutoff: time = DEFAULT_CUTOFF,
                 with_announced: bool = True) -> None:
        self.announced = announced() if with_announced else {}
        self.extra_days_off = frozenset(d for d, (worked, _) in self.announced.items() if not worked) | frozenset(
            extra_days_off)
        self.makeup_workdays = (frozenset(d for d, (worked, _) in self.announced.items() if worked)
                                - frozenset(extra_days_off)) | frozenset(makeup_workdays)
        self.office_hours, self.cutoff = office_hours, cutoff
        self.minutes_per_day = sum(_minutes(b) - _minutes(a) for a, b in office_hours)

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        if day in self.extra_days_off:
            return False
        return _public_holidays(day.year).is_working_day(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """`count` working days after `day` (0: `day` itself)."""
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def working_days_before(self, moment: datetime, count: int) -> datetime:
        """The same local time `count` working days before `moment`."""
        local = moment.astimezone(TZ)
        day, counted = local.date(), 0
        while counted < count:
            day -= timedelta(days=1)
            counted += self.is_working_day(day)
        return datetime.combine(day, local.timetz())

    def working_days_between(self, after: date, until: date) -> int:
        """Working days d with after < d ≤ until."""
        count, day = 0, after
        while day < until:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def start_day(self, moment: datetime, cutoff: time | None = None) -> date:
        """The day counting starts from for something received at `moment`."""
        local = moment.astimezone(TZ)
        if self.is_working_day(local.date()) and local.time() < (cutoff or self.cutoff):
            return local.date()
        return self.next_working_day(local.date())

    def due_at(self, received: datetime, working_days: float, cutoff: time | None = None) -> datetime:
        """Whole days: end of office hours on the `working_days`-th working day after receipt. A fraction
        (0.5): that many days of office hours, counted from receipt (from the next opening after the cut-off)."""
        if working_days == int(working_days):
            return self.end_of_day(self.add_working_days(self.start_day(received, cutoff), int(working_days)))
        start = received
        if received.astimezone(TZ).time() >= (cutoff or self.cutoff):
            start = self.opening(self.next_working_day(received.astimezone(TZ).date()))
        return self.add_working_minutes(start, round(working_days * self.minutes_per_day))

    def opening(self, day: date) -> datetime:
        return datetime.combine(day, self.office_hours[0][0], TZ).astimezone(UTC)

    def end_of_day(self, day: date) -> datetime:
        """End of office hours that day, as an instant in UTC (how every time is stored and sent)."""
        return datetime.combine(day, self.office_hours[-1][1], TZ).astimezone(UTC)

    def add_working_minutes(self, moment: datetime, minutes: int) -> datetime:
        """The instant `minutes` of office time after `moment` (time outside office hours does not count)."""
        local = moment.astimezone(TZ)
        day, now = local.date(), _minutes(local.time())
        while True:
            if self.is_working_day(day):
                for start, end in self.office_hours:
                    begin = max(now, _minutes(start))
                    if begin >= _minutes(end):
                        continue
                    if minutes <= _minutes(end) - begin:
                        at = begin + minutes
                        return datetime.combine(day, time(at // 60, at % 60), TZ).astimezone(UTC)
                    minutes -= _minutes(end) - begin
            day, now = day + timedelta(days=1), 0

    def working_minutes_between(self, start: datetime, end: datetime) -> int:
        """Office minutes from `start` to `end` (0 when `end` is not later)."""
        total, local, stop = 0, start.astimezone(TZ), end.astimezone(TZ)
        day = local.date()
        while day <= stop.date():
            if self.is_working_day(day):
                for a, b in self.office_hours:
                    lo = max(datetime.combine(day, a, TZ), local)
                    hi = min(datetime.combine(day, b, TZ), stop)
                    total += max(0, int((hi - lo).total_seconds() // 60))
            day += timedelta(days=1)
        return total

    def remaining_days(self, now: datetime, due: datetime) -> int:
        """Working days still left before `due`, counted after today: 0 when paused on the due day
        itself (the dossier is then due at the end of the day it resumes)."""
        if due <= now:
            return 0
        return self.working_days_between(now.astimezone(TZ).date(), due.astimezone(TZ).date())

    def resume(self, now: datetime, remaining: int) -> datetime:
        """The new due time when a paused clock restarts: `remaining` working days after the day it
        restarts (0: the end of that day, or of the next working day when it restarts on a day off)."""
        day = self.add_working_days(now.astimezone(TZ).date(), remaining)
        return self.end_of_day(day if self.is_working_day(day) else self.next_working_day(day))

    def year(self, year: int) -> list[tuple[date, str]]:
        """Every day of a year that is not an ordinary weekday or weekend: for an operator to check."""
        public = _public_holidays(year)
        days = []
        day = date(year, 1, 1)
        while day.year == year:
            weekend = day.weekday() >= 5
            if self.is_working_day(day) == weekend:
                name = self.announced.get(day, (False, ""))[1] or public.get(day) or "set in SMARTQN_* settings"
                days.append((day, f"worked (make-up day) {name}".strip() if weekend else f"off: {name}".strip()))
            day += timedelta(days=1)
        return days

    def working_days_spent(self, start: datetime, end: datetime) -> int:
        """Working days from a start to an end (the start day not counted), for statistics."""
        return self.working_days_between(start.astimezone(TZ).date(), end.astimezone(TZ).date())
