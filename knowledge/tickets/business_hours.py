"""Business-hours arithmetic: adding working time to an instant and measuring working time between two.

Pure functions over a :class:`BusinessCalendar` (a week of opening intervals, holidays and a
time zone), so the SLA clock can be tested without a database. Instants in and out are
timezone-aware; the calendar works in its own local time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]  # index = date.weekday()
# Saturday to Wednesday full days, Thursday morning, Friday off (the Iranian working week).
DEFAULT_WEEK = "sat-wed 08:00-17:00; thu 08:00-12:00"
_MAX_DAYS = 3 * 366  # a target is never further away than this; guards a calendar with no hours
_PART = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(.+?)\s*$")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")

Interval = tuple[time, time]


class CalendarError(ValueError):
    """The week description cannot be read."""


def parse_week(text: str) -> dict[int, list[Interval]]:
    """Reads ``"sat-wed 08:00-17:00; thu 08:00-12:00"`` (day ranges wrap past Sunday; several spans
    per day separated by commas) into weekday → sorted opening intervals."""
    week: dict[int, list[Interval]] = {day: [] for day in range(7)}
    for part in filter(None, (p.strip() for p in (text or "").lower().split(";"))):
        match = _PART.match(part)
        if not match or match.group(1) not in DAY_NAMES or (match.group(2) and match.group(2) not in DAY_NAMES):
            raise CalendarError(f"cannot read {part!r}")
        first = DAY_NAMES.index(match.group(1))
        last = DAY_NAMES.index(match.group(2)) if match.group(2) else first
        days = [(first + i) % 7 for i in range((last - first) % 7 + 1)]
        for span in match.group(3).split(","):
            found = _SPAN.match(span.strip())
            if not found:
                raise CalendarError(f"cannot read hours {span!r}")
            h1, m1, h2, m2 = (int(x) for x in found.groups())
            if not (0 <= h1 <= 23 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60):
                raise CalendarError(f"impossible hours {span!r}")
            start = time(h1, m1)
            end = time.max if (h2, m2) == (24, 0) else time(h2, m2)  # time.max stands for midnight
            if end <= start:
                raise CalendarError(f"a span must end after it starts: {span!r}")
            for day in days:
                week[day].append((start, end))
    for day in week:
        week[day].sort()
    return week


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per weekday, closed days, and the zone the hours are in."""

    week: dict[int, list[Interval]]
    timezone: str = "Asia/Tehran"
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_text(cls, week: str = DEFAULT_WEEK, timezone: str = "Asia/Tehran", holidays: set[date] | None = None):
        return cls(parse_week(week), timezone, frozenset(holidays or ()))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening intervals of one local day, as aware local datetimes."""
        if day in self.holidays:
            return []
        zone = self.zone
        midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        return [
            (
                datetime.combine(day, start, tzinfo=zone),
                midnight if end == time.max else datetime.combine(day, end, tzinfo=zone),
            )
            for start, end in self.week.get(day.weekday(), [])
        ]

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when ``duration`` of business time has passed after ``start`` (UTC)."""
        remaining = duration
        if remaining <= timedelta(0):
            return start.astimezone(UTC)
        cursor = start.astimezone(self.zone)
        day = cursor.date()
        for _ in range(_MAX_DAYS):
            for opens, closes in self.intervals_on(day):
                if closes <= cursor:
                    continue
                begin = max(opens, cursor)
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
            day += timedelta(days=1)
        raise CalendarError("the calendar has no business hours")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time elapsed from ``start`` to ``end`` (zero when ``end`` is not later)."""
        if end <= start:
            return timedelta(0)
        first = start.astimezone(self.zone)
        last = end.astimezone(self.zone)
        total = timedelta(0)
        day = first.date()
        while day <= last.date():
            for opens, closes in self.intervals_on(day):
                overlap = min(closes, last) - max(opens, first)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def is_open(self, instant: datetime) -> bool:
        local = instant.astimezone(self.zone)
        return any(opens <= local < closes for opens, closes in self.intervals_on(local.date()))
