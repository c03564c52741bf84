"""Working days in Asia/Ho_Chi_Minh: the one calendar every deadline is computed with.

Working days are Monday–Friday minus Vietnamese public holidays (the `holidays` package, which also
knows the government's day swaps it has been taught, e.g. Saturday 26/4/2025 worked for Friday
2/5/2025), plus configurable extra days off and make-up working days for swaps decided later.

Our rules (DOMAIN.md "Deadlines"): a dossier received before the cut-off on a working day counts
from that day, otherwise from the next working day; N working days later is the due day, and
`due_at` is the end of office hours on it (N = 0: the same day).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_CUTOFF = time(15, 0)
OFFICE_OPENS = time(7, 30)
OFFICE_CLOSES = time(17, 0)


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


class WorkingCalendar:
    def __init__(self, extra_days_off: Iterable[date] = (), makeup_workdays: Iterable[date] = ()) -> None:
        self.extra_days_off = frozenset(extra_days_off)
        self.makeup_workdays = frozenset(makeup_workdays)

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

    def working_days_between(self, after: date, until: date) -> int:
        """Working days d with after < d ≤ until."""
        count, day = 0, after
        while day < until:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def start_day(self, moment: datetime, cutoff: time = DEFAULT_CUTOFF) -> date:
        """The day counting starts from for something received at `moment`."""
        local = moment.astimezone(TZ)
        if self.is_working_day(local.date()) and local.time() < cutoff:
            return local.date()
        return self.next_working_day(local.date())

    def due_at(self, received: datetime, working_days: int, cutoff: time = DEFAULT_CUTOFF) -> datetime:
        """End of office hours on the `working_days`-th working day after receipt."""
        return self.end_of_day(self.add_working_days(self.start_day(received, cutoff), working_days))

    @staticmethod
    def end_of_day(day: date) -> datetime:
        """End of office hours that day, as an instant in UTC (how every time is stored and sent)."""
        return datetime.combine(day, OFFICE_CLOSES, TZ).astimezone(UTC)

    def remaining_days(self, now: datetime, due: datetime) -> int:
        """Working days still left before `due`, counted after today (at least 1 when not yet due)."""
        today, due_day = now.astimezone(TZ).date(), due.astimezone(TZ).date()
        if due <= now:
            return 0
        return max(1, self.working_days_between(today, due_day))

    def resume(self, now: datetime, remaining: int) -> datetime:
        """The new due time when a paused clock restarts: `remaining` days, from the next working day."""
        return self.end_of_day(self.add_working_days(now.astimezone(TZ).date(), remaining))

    def working_days_spent(self, start: datetime, end: datetime) -> int:
        """Working days from a start to an end (the start day not counted), for statistics."""
        return self.working_days_between(start.astimezone(TZ).date(), end.astimezone(TZ).date())
