"""Working-time arithmetic: the clock math every SLA target rests on.

Two clocks share one small interface (:class:`Clock`):

* :data:`WALL_CLOCK` counts every second (targets in calendar hours);
* :class:`BusinessCalendar` counts only the seconds inside a weekly schedule of working
  intervals in one IANA time zone, minus holidays (targets in business hours).

Both answer two questions: :meth:`~Clock.add` (the instant N seconds of counted time after an
instant) and :meth:`~Clock.between` (the counted time between two instants). Durations are exact
``timedelta`` values, so the laws the tests check hold to the microsecond:
``between(t, add(t, d)) == d`` and ``between(a, b) + between(b, c) == between(a, c)``.

Working intervals are wall-clock times on a weekday (``Monday 09:00-17:00``); one whose end is
not after its start runs overnight into the next day (``Friday 22:00-06:00``; ``00:00-00:00`` is
the whole day). They are turned into real instants day by day, so a DST change is honoured the
way people expect: a 09:00-17:00 day is eight real hours on both sides of the change, and a
night shift across the change is one hour shorter or longer. A wall-clock time that does not
exist (skipped by a spring-forward change) is read with the offset in force before the change;
one that happens twice (fall-back) means its first occurrence. A holiday removes every working
second that falls on that local date.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

ZERO = timedelta(0)
WEEK_SECONDS = 7 * 24 * 3600
# How far add() looks for working time before deciding the schedule has none.
HORIZON_DAYS = 3 * 366

Span = tuple[datetime, datetime]


class NoWorkingTime(ValueError):
    """The schedule offers no working time within the search horizon (e.g. all holidays)."""


class Clock(Protocol):
    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which ``amount`` of counted time has passed since ``start``."""

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Counted time from ``start`` to ``end`` (negative when ``end`` comes first)."""


class WallClock:
    """Calendar time: every second counts."""

    def add(self, start: datetime, amount: timedelta) -> datetime:
        _require_aware(start)
        return start + amount

    def between(self, start: datetime, end: datetime) -> timedelta:
        _require_aware(start, end)
        return end - start

    def __repr__(self) -> str:
        return "WallClock()"


WALL_CLOCK = WallClock()


@dataclass(frozen=True, order=True)
class WorkingInterval:
    """Working time on one ISO weekday (1 = Monday), from ``start`` to ``end`` wall-clock time;
    overnight into the next day when ``end`` is not after ``start``."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 1 <= self.weekday <= 7:
            raise ValueError(f"weekday must be 1 (Monday) to 7 (Sunday), not {self.weekday}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("working interval times are wall-clock times, without a zone")

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def week_range(self) -> tuple[int, int]:
        """Start and end in seconds from Monday 00:00, on a nominal (DST-free) week; the end may
        pass the week's end for a Sunday night shift."""
        start = (self.weekday - 1) * 86400 + _seconds(self.start)
        length = _seconds(self.end) - _seconds(self.start)
        if length <= 0:
            length += 86400
        return start, start + length


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


Clash = tuple[WorkingInterval, WorkingInterval]


def overlapping(intervals: Iterable[WorkingInterval]) -> list[Clash]:
    """Every pair of intervals that share working time, on the weekly cycle (so a Sunday night
    shift running into Monday morning is checked against Monday's intervals)."""
    ranges = sorted((iv.week_range(), iv) for iv in intervals)
    clashes: list[Clash] = []
    for i, ((start_a, end_a), a) in enumerate(ranges):
        for (start_b, end_b), b in ranges[i + 1 :]:
            # Compare on the circle: b also as it comes round again a week later.
            if start_b < end_a or start_a + WEEK_SECONDS < end_b:
                clashes.append((a, b))
    return clashes


class BusinessCalendar:
    """A weekly schedule of working intervals in one time zone, with holidays.

    ``holidays`` are specific dates; ``yearly_holidays`` are (month, day) pairs that recur every
    year; ``country`` (and ``subdivision``) name a public-holiday calendar of the ``holidays``
    package, e.g. ``("US", "NY")``.
    """

    def __init__(
        self,
        *,
        timezone: str,
        intervals: Iterable[WorkingInterval],
        holidays: Iterable[date] = (),
        yearly_holidays: Iterable[tuple[int, int]] = (),
        country: str | None = None,
        subdivision: str | None = None,
    ) -> None:
        self.zone = ZoneInfo(timezone)
        self.intervals = tuple(sorted(intervals))
        if not self.intervals:
            raise ValueError("a business calendar needs at least one working interval")
        clashes = overlapping(self.intervals)
        if clashes:
            raise ValueError(f"working intervals overlap: {clashes[0][0]} and {clashes[0][1]}")
        self.holidays = frozenset(holidays)
        self.yearly_holidays = frozenset(yearly_holidays)
        self.country = country or None
        self.subdivision = subdivision or None
        by_day: dict[int, list[WorkingInterval]] = {d: [] for d in range(1, 8)}
        for interval in self.intervals:
            by_day[interval.weekday].append(interval)
        self._by_day = by_day
        self._country_year: Callable[[int], holiday_calendars.HolidayBase] = functools.lru_cache(
            maxsize=16
        )(self._load_country_year)

    def __repr__(self) -> str:
        return f"BusinessCalendar(timezone={self.zone.key!r}, intervals={len(self.intervals)})"

    # --- the two questions ---------------------------------------------------------------------

    def add(self, start: datetime, amount: timedelta) -> datetime:
        _require_aware(start)
        if amount < ZERO:
            raise ValueError("cannot add a negative amount of working time")
        if amount == ZERO:
            return start
        remaining = amount
        for span_start, span_end in self.spans_from(start):
            length = span_end - span_start
            if remaining <= length:
                return span_start + remaining
            remaining -= length
        raise NoWorkingTime(f"no working time within {HORIZON_DAYS} days of {start.isoformat()}")

    def between(self, start: datetime, end: datetime) -> timedelta:
        _require_aware(start, end)
        if end < start:
            return -self.between(end, start)
        total = ZERO
        for span_start, span_end in self.spans_from(start, until=end):
            total += min(span_end, end) - span_start
        return total

    def is_working(self, instant: datetime) -> bool:
        """Whether ``instant`` lies in working time: inside a span or at its end (where
        :meth:`add` lands when a target uses a span up exactly), not at its start."""
        _require_aware(instant)
        before = instant - timedelta(microseconds=1)
        return any(s <= instant <= e for s, e in self.spans_from(before, until=instant))

    # --- working spans ----------------------------------------------------------------------------

    def spans_from(self, instant: datetime, until: datetime | None = None) -> Iterator[Span]:
        """Working spans (UTC) in time order, clipped to begin no earlier than ``instant``;
        stopping at the first span that starts at or after ``until``, or after the horizon."""
        instant = instant.astimezone(UTC)
        # Start a day early: yesterday's overnight interval may still be running.
        day = instant.astimezone(self.zone).date() - timedelta(days=1)
        last_day = day + timedelta(days=HORIZON_DAYS)
        last_end = instant
        while day <= last_day:
            for span_start, span_end in self._day_spans(day):
                span_start = max(span_start, last_end)
                if until is not None and span_start >= until:
                    return
                if span_end > span_start:
                    yield span_start, span_end
                    last_end = span_end
            day += timedelta(days=1)
            if until is not None and self._midnight(day) >= until:
                return

    def _day_spans(self, day: date) -> Iterator[Span]:
        """The working spans of the intervals that start on local date ``day``, holidays cut
        out, in time order."""
        for interval in self._by_day[day.isoweekday()]:
            end_day = day + timedelta(days=1) if interval.overnight else day
            span = (self._instant(day, interval.start), self._instant(end_day, interval.end))
            pieces = [span]
            for touched in {day, end_day}:
                if self.is_holiday(touched):
                    pieces = [
                        piece
                        for p in pieces
                        for piece in _cut(p, self._midnight(touched), self._midnight(touched, 1))
                    ]
            yield from pieces

    def _instant(self, day: date, wall: time) -> datetime:
        return datetime.combine(day, wall, tzinfo=self.zone).astimezone(UTC)

    def _midnight(self, day: date, plus_days: int = 0) -> datetime:
        return self._instant(day + timedelta(days=plus_days), time(0))

    # --- holidays -----------------------------------------------------------------------------

    def is_holiday(self, day: date) -> bool:
        if day in self.holidays or (day.month, day.day) in self.yearly_holidays:
            return True
        return self.country is not None and day in self._country_year(day.year)

    def _load_country_year(self, year: int) -> holiday_calendars.HolidayBase:
        assert self.country is not None
        return holiday_calendars.country_holidays(self.country, subdiv=self.subdivision, years=year)


def _cut(span: Span, hole_start: datetime, hole_end: datetime) -> list[Span]:
    """``span`` minus the hole [hole_start, hole_end)."""
    start, end = span
    if hole_end <= start or hole_start >= end:
        return [span]
    return [(s, e) for s, e in ((start, hole_start), (hole_end, end)) if e > s]


def _require_aware(*instants: datetime) -> None:
    for instant in instants:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"SLA clock math needs aware datetimes, not {instant!r}")
