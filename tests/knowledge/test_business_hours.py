"""Business-hours arithmetic of the SLA clock: the Iranian week, Thursday noon, Fridays, holidays, pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from knowledge.tickets.business_hours import DEFAULT_WEEK, BusinessCalendar, CalendarError, parse_week

TEHRAN = ZoneInfo("Asia/Tehran")
# 2026-11-21 is a Saturday. The week: Sat 21, Sun 22, Mon 23, Tue 24, Wed 25, Thu 26, Fri 27, Sat 28.


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TEHRAN)


def local(value: datetime) -> datetime:
    return value.astimezone(TEHRAN)


@pytest.fixture
def cal() -> BusinessCalendar:
    return BusinessCalendar.from_text(DEFAULT_WEEK, "Asia/Tehran")


def test_the_default_week_is_saturday_to_wednesday_full_days_and_thursday_morning():
    week = parse_week(DEFAULT_WEEK)
    assert date(2026, 11, 21).weekday() == 5  # Saturday
    for weekday in (5, 6, 0, 1, 2):
        assert [(s.hour, e.hour) for s, e in week[weekday]] == [(8, 17)]
    assert [(s.hour, e.hour) for s, e in week[3]] == [(8, 12)]  # Thursday
    assert week[4] == []  # Friday


def test_adding_within_one_working_day(cal):
    assert local(cal.add(at(21, 9), timedelta(hours=2))) == at(21, 11)


def test_the_result_is_in_utc(cal):
    result = cal.add(at(21, 9), timedelta(hours=1))
    assert result.tzinfo == UTC
    assert result == at(21, 10).astimezone(UTC)


def test_time_left_at_closing_carries_over_to_the_next_morning(cal):
    assert local(cal.add(at(21, 16), timedelta(hours=2))) == at(22, 9)


def test_a_start_before_opening_counts_from_opening(cal):
    assert local(cal.add(at(21, 6, 30), timedelta(minutes=30))) == at(21, 8, 30)


def test_a_start_after_closing_counts_from_the_next_opening(cal):
    assert local(cal.add(at(21, 20), timedelta(hours=1))) == at(22, 9)


def test_thursday_ends_at_noon_and_friday_is_skipped(cal):
    # Thursday 11:00 + 2h: one hour on Thursday, Friday off, one hour on Saturday.
    assert local(cal.add(at(26, 11), timedelta(hours=2))) == at(28, 9)


def test_wednesday_afternoon_runs_through_thursday_morning(cal):
    # Wednesday 15:00 + 5h: 2h on Wednesday, 3h on Thursday morning.
    assert local(cal.add(at(25, 15), timedelta(hours=5))) == at(26, 11)


def test_a_ticket_opened_on_friday_starts_counting_on_saturday_morning(cal):
    assert local(cal.add(at(27, 10), timedelta(hours=1))) == at(28, 9)


def test_a_ticket_opened_on_thursday_afternoon_starts_on_saturday(cal):
    assert local(cal.add(at(26, 14), timedelta(minutes=90))) == at(28, 9, 30)


def test_exactly_at_thursday_noon_with_time_left_goes_to_saturday(cal):
    assert local(cal.add(at(26, 8), timedelta(hours=4))) == at(26, 12)
    assert local(cal.add(at(26, 8), timedelta(hours=4, minutes=1))) == at(28, 8, 1)


def test_a_full_week_of_business_time_is_49_hours(cal):
    # 5 × 9h + 4h on Thursday = 49 business hours from Saturday 08:00 to the next Saturday 08:00.
    assert cal.between(at(21, 8), at(28, 8)) == timedelta(hours=49)
    assert local(cal.add(at(21, 8), timedelta(hours=49))) == at(26, 12)


def test_holidays_are_skipped(cal):
    holiday_cal = BusinessCalendar.from_text(DEFAULT_WEEK, "Asia/Tehran", {date(2026, 11, 22), date(2026, 11, 23)})
    # Saturday 16:00 + 2h: one hour on Saturday, Sunday and Monday are holidays, one hour on Tuesday.
    assert local(holiday_cal.add(at(21, 16), timedelta(hours=2))) == at(24, 9)
    assert holiday_cal.between(at(21, 8), at(24, 8)) == timedelta(hours=9)
    assert cal.between(at(21, 8), at(24, 8)) == timedelta(hours=27)


def test_a_holiday_thursday_sends_wednesday_evening_work_to_saturday(cal):
    holiday_cal = BusinessCalendar.from_text(DEFAULT_WEEK, "Asia/Tehran", {date(2026, 11, 26)})
    assert local(holiday_cal.add(at(25, 16), timedelta(hours=2))) == at(28, 9)


def test_between_counts_only_open_hours(cal):
    assert cal.between(at(25, 16), at(28, 9)) == timedelta(hours=1 + 4 + 1)
    assert cal.between(at(27, 9), at(27, 18)) == timedelta(0)  # a Friday
    assert cal.between(at(21, 12), at(21, 10)) == timedelta(0)  # backwards


def test_add_and_between_agree(cal):
    start = at(24, 13, 17)
    for minutes in (1, 59, 60, 240, 600, 2000, 5000):
        end = cal.add(start, timedelta(minutes=minutes))
        assert cal.between(start, end) == timedelta(minutes=minutes)


def test_a_pause_pushes_the_due_time_by_the_business_time_it_lasted(cal):
    """The SLA clock: target 4h from Wednesday 15:00; waiting on the customer from Wednesday 16:00 to
    Saturday 10:00 uses 1h (Wed) + 4h (Thu) + 2h (Sat) = 7 business hours, so the due time moves 7h:
    1h was used before the pause, the 3h left run from Saturday 10:00 to 13:00."""
    created = at(25, 15)
    due = cal.add(created, timedelta(hours=4))
    assert local(due) == at(26, 10)
    paused = cal.between(at(25, 16), at(28, 10))
    assert paused == timedelta(hours=7)
    assert local(cal.add(created, timedelta(hours=4) + paused)) == at(28, 13)


def test_zero_duration_returns_the_start(cal):
    assert cal.add(at(27, 10), timedelta(0)) == at(27, 10)


def test_is_open(cal):
    assert cal.is_open(at(21, 8))
    assert not cal.is_open(at(21, 17))
    assert cal.is_open(at(26, 11, 59))
    assert not cal.is_open(at(26, 12))
    assert not cal.is_open(at(27, 10))


def test_a_custom_week_with_a_lunch_break_and_wrapping_day_range():
    cal = BusinessCalendar.from_text("sat-wed 08:00-12:00, 13:00-17:00; thu 09:00-13:00", "Asia/Tehran")
    assert local(cal.add(at(21, 11), timedelta(hours=2))) == at(21, 14)
    week = parse_week("fri-sun 10:00-11:00")  # wraps past Sunday: Fri, Sat, Sun
    assert {d for d, spans in week.items() if spans} == {4, 5, 6}


@pytest.mark.parametrize("text", ["sat-xyz 08:00-17:00", "sat 17:00-08:00", "sat 8-17", "mon 25:00-26:00"])
def test_unreadable_weeks_are_refused(text):
    with pytest.raises(CalendarError):
        parse_week(text)


def test_a_calendar_without_hours_refuses_to_loop_forever():
    with pytest.raises(CalendarError):
        BusinessCalendar.from_text("", "Asia/Tehran").add(at(21, 9), timedelta(hours=1))
