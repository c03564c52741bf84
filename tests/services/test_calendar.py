"""Working days and deadlines on the dates that matter: Tết, 30/4–1/5, 2/9, swaps, supplement pauses."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.calendar import TZ, WorkingCalendar

cal = WorkingCalendar()


def local(y, m, d, hh=9, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.mark.parametrize(("day", "working"), [
    (date(2026, 2, 16), False), (date(2026, 2, 17), False), (date(2026, 2, 20), False),  # Tết Bính Ngọ
    (date(2026, 2, 23), True),
    (date(2026, 4, 30), False), (date(2026, 5, 1), False),
    (date(2026, 9, 1), False), (date(2026, 9, 2), False),
    (date(2025, 4, 26), True),  # a Saturday worked for Friday 2/5/2025
    (date(2025, 5, 2), False),
    (date(2026, 11, 28), False),  # an ordinary Saturday
])
def test_working_days(day, working):
    assert cal.is_working_day(day) is working


def test_receipt_before_and_after_the_cutoff():
    # Monday 9:00, 3 days → Thursday 17:00; Monday 15:30 counts from Tuesday → Friday.
    assert cal.due_at(local(2026, 12, 7, 9), 3) == local(2026, 12, 10, 17)
    assert cal.due_at(local(2026, 12, 7, 15, 30), 3) == local(2026, 12, 11, 17)
    # Same-day procedures: due at the end of the day, or of the next working day after the cut-off.
    assert cal.due_at(local(2026, 12, 7, 10), 0) == local(2026, 12, 7, 17)
    assert cal.due_at(local(2026, 12, 11, 16), 0) == local(2026, 12, 14, 17)
    # Received on a Saturday: counts from Monday.
    assert cal.due_at(local(2026, 12, 12, 10), 1) == local(2026, 12, 15, 17)


def test_vietnam_culture_day_24_november_is_a_holiday():
    # Since 2025 (the holidays package knows it): Mon 23/11/2026 + 1 → Wed 25/11.
    assert cal.due_at(local(2026, 11, 23, 9), 1) == local(2026, 11, 25, 17)


def test_tet_is_skipped():
    # Friday 13/2/2026, 3 working days: 16–20/2 is Tết → Mon 23, Tue 24, Wed 25.
    assert cal.due_at(local(2026, 2, 13, 9), 3) == local(2026, 2, 25, 17)


def test_reunification_and_labour_day_are_skipped():
    # Wed 29/4/2026 + 2 working days: 30/4 and 1/5 off, weekend → Mon 4/5, Tue 5/5.
    assert cal.due_at(local(2026, 4, 29, 9), 2) == local(2026, 5, 5, 17)


def test_national_day_is_skipped():
    # Fri 28/8/2026 + 2: Mon 31/8 (swapped day off), 1/9 and 2/9 off → Thu 3/9, Fri 4/9.
    assert cal.due_at(local(2026, 8, 28, 9), 2) == local(2026, 9, 4, 17)


def test_a_makeup_saturday_counts():
    # Fri 25/4/2025 + 1: Saturday 26/4/2025 is a working day.
    assert cal.due_at(local(2025, 4, 25, 9), 1) == local(2025, 4, 26, 17)


def test_configured_swaps_override_the_package():
    custom = WorkingCalendar(extra_days_off=[date(2026, 12, 1)], makeup_workdays=[date(2026, 11, 28)])
    # Fri 27/11 + 3: Sat 28 (made a working day), Mon 30, Tue 1/12 (made a day off) → Wed 2/12.
    assert custom.due_at(local(2026, 11, 27, 9), 3) == local(2026, 12, 2, 17)


def test_a_supplement_pause_across_tet_keeps_the_days_that_were_left():
    received = local(2026, 2, 9, 9)  # Monday
    due = cal.due_at(received, 5)  # Tue 10 … Fri 13, then Tết → Mon 23/2
    assert due == local(2026, 2, 23, 17)
    paused = local(2026, 2, 11, 10)  # Wednesday: Thu 12, Fri 13, Mon 23 remain
    remaining = cal.remaining_days(paused, due)
    assert remaining == 3
    # Resubmitted on Lunar New Year's Eve: the days run again from the first working day after Tết.
    assert cal.resume(local(2026, 2, 16, 10), remaining) == local(2026, 2, 25, 17)


def test_remaining_days_when_overdue_or_on_the_due_day():
    due = local(2026, 12, 10, 17)
    assert cal.remaining_days(local(2026, 12, 11, 9), due) == 0
    # Paused on the due day itself: nothing left beyond the day it resumes (issue 12: a pause on the
    # due day gives no extra day), so resuming on Friday 11/12 makes it due that evening.
    assert cal.remaining_days(local(2026, 12, 10, 9), due) == 0
    assert cal.resume(local(2026, 12, 11, 10), 0) == local(2026, 12, 11, 17)
    assert cal.resume(local(2026, 12, 12, 10), 0) == local(2026, 12, 14, 17)  # resumed on a Saturday


def test_working_days_spent():
    assert cal.working_days_spent(local(2026, 2, 13, 9), local(2026, 2, 24, 9)) == 2
