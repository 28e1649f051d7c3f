"""The clock math: worked examples across DST, holidays, midnight and week ends, then the laws
every calendar must keep, checked by hypothesis on generated schedules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalated.services.business_time import (
    WALL_CLOCK,
    BusinessCalendar,
    NoWorkingTime,
    WorkingInterval,
    overlapping,
)

NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)


def weekdays(start: time, end: time, days: range = range(1, 6)) -> list[WorkingInterval]:
    return [WorkingInterval(d, start, end) for d in days]


NINE_TO_FIVE_NY = BusinessCalendar(
    timezone="America/New_York", intervals=weekdays(time(9), time(17))
)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


# --- worked examples --------------------------------------------------------------------------


def test_adding_within_one_day() -> None:
    assert NINE_TO_FIVE_NY.add(ny(2025, 3, 4, 10), 3 * H) == ny(2025, 3, 4, 13)


def test_a_target_that_uses_up_the_day_ends_at_closing_time_not_next_morning() -> None:
    assert NINE_TO_FIVE_NY.add(ny(2025, 3, 3, 9), 8 * H) == ny(2025, 3, 3, 17)


def test_before_opening_the_clock_starts_at_opening() -> None:
    assert NINE_TO_FIVE_NY.add(ny(2025, 3, 4, 6, 30), H) == ny(2025, 3, 4, 10)


def test_friday_afternoon_runs_into_monday_across_the_march_dst_change() -> None:
    # Sunday 9 March 2025 New York springs forward; Monday is on EDT (UTC-4).
    due = NINE_TO_FIVE_NY.add(ny(2025, 3, 7, 16), 2 * H)
    assert due == ny(2025, 3, 10, 10)
    assert due.astimezone(NY).utcoffset() == timedelta(hours=-4)
    assert NINE_TO_FIVE_NY.between(ny(2025, 3, 7, 16), due) == 2 * H


def test_a_night_shift_across_the_spring_forward_is_an_hour_shorter() -> None:
    nights = BusinessCalendar(
        timezone="America/New_York", intervals=[WorkingInterval(6, time(22), time(6))]
    )
    # Saturday 22:00 EST to Sunday 06:00 EDT is seven real hours.
    assert nights.between(ny(2025, 3, 8, 12), ny(2025, 3, 9, 12)) == 7 * H
    # In autumn the same shift is nine.
    assert nights.between(ny(2025, 11, 1, 12), ny(2025, 11, 2, 12)) == 9 * H


def test_midnight_and_week_boundaries() -> None:
    round_the_clock = BusinessCalendar(
        timezone="UTC", intervals=[WorkingInterval(d, time(0), time(0)) for d in range(1, 8)]
    )
    start = datetime(2025, 1, 5, 23, tzinfo=UTC)  # a Sunday, an hour before the week turns
    assert round_the_clock.add(start, 2 * H) == datetime(2025, 1, 6, 1, tzinfo=UTC)
    assert round_the_clock.between(start, start + 50 * H) == 50 * H


def test_split_days_skip_the_lunch_break() -> None:
    split = BusinessCalendar(
        timezone="Europe/Berlin",
        intervals=weekdays(time(9), time(12)) + weekdays(time(13), time(17)),
    )
    berlin = ZoneInfo("Europe/Berlin")
    assert split.add(datetime(2025, 6, 2, 11, tzinfo=berlin), 2 * H) == datetime(
        2025, 6, 2, 14, tzinfo=berlin
    )


def test_a_specific_holiday_in_the_middle_of_a_target() -> None:
    calendar = BusinessCalendar(
        timezone="America/New_York",
        intervals=weekdays(time(9), time(17)),
        holidays=[date(2025, 3, 5)],
    )
    # Tuesday 15:00 + 4 h: two on Tuesday, Wednesday is off, two on Thursday.
    assert calendar.add(ny(2025, 3, 4, 15), 4 * H) == ny(2025, 3, 6, 11)
    assert calendar.between(ny(2025, 3, 4, 15), ny(2025, 3, 6, 11)) == 4 * H


def test_yearly_and_country_holidays() -> None:
    yearly = BusinessCalendar(
        timezone="UTC", intervals=weekdays(time(9), time(17)), yearly_holidays=[(12, 25)]
    )
    assert yearly.is_holiday(date(2031, 12, 25))
    assert yearly.add(datetime(2031, 12, 24, 16, tzinfo=UTC), 2 * H) == datetime(
        2031, 12, 26, 10, tzinfo=UTC
    )

    us = BusinessCalendar(
        timezone="America/New_York",
        intervals=weekdays(time(9), time(17)),
        country="US",
        subdivision="NY",
    )
    assert us.is_holiday(date(2025, 7, 4))  # Independence Day, a Friday
    assert us.add(ny(2025, 7, 3, 16), 2 * H) == ny(2025, 7, 7, 10)


def test_a_holiday_cuts_an_overnight_shift_at_midnight() -> None:
    nights = BusinessCalendar(
        timezone="UTC",
        intervals=[WorkingInterval(3, time(20), time(4))],
        holidays=[date(2025, 1, 2)],  # the Thursday the Wednesday shift runs into
    )
    wednesday = datetime(2025, 1, 1, tzinfo=UTC)
    assert nights.between(wednesday, wednesday + 48 * H) == 4 * H


def test_counting_backwards_is_negative_and_the_wall_clock_counts_everything() -> None:
    a, b = ny(2025, 3, 3, 10), ny(2025, 3, 4, 10)
    assert NINE_TO_FIVE_NY.between(b, a) == -8 * H
    assert WALL_CLOCK.between(a, b) == 24 * H
    assert WALL_CLOCK.add(a, 24 * H) == b


def test_bad_calendars_and_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        BusinessCalendar(
            timezone="UTC",
            intervals=[
                WorkingInterval(1, time(9), time(17)),
                WorkingInterval(1, time(16), time(18)),
            ],
        )
    with pytest.raises(ValueError, match="at least one"):
        BusinessCalendar(timezone="UTC", intervals=[])
    with pytest.raises(ValueError, match="aware"):
        NINE_TO_FIVE_NY.add(datetime(2025, 1, 1), H)
    with pytest.raises(ValueError, match="weekday"):
        WorkingInterval(8, time(9), time(17))


def test_a_schedule_with_no_reachable_working_time_says_so() -> None:
    every_day = {(m, d) for m in range(1, 13) for d in range(1, 32)}
    never = BusinessCalendar(
        timezone="UTC", intervals=weekdays(time(9), time(17)), yearly_holidays=every_day
    )
    with pytest.raises(NoWorkingTime):
        never.add(datetime(2025, 1, 1, tzinfo=UTC), H)


def test_overlaps_are_found_around_the_end_of_the_week() -> None:
    sunday_night = WorkingInterval(7, time(22), time(6))
    monday_morning = WorkingInterval(1, time(5), time(9))
    assert overlapping([monday_morning, sunday_night]) == [(monday_morning, sunday_night)]
    assert overlapping([WorkingInterval(1, time(6), time(9)), sunday_night]) == []


# --- the laws, on generated schedules -----------------------------------------------------------

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # a half-hour DST shift
    "Asia/Kolkata",
    "America/Santiago",  # DST changes at midnight
]


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    intervals: list[WorkingInterval] = []
    for _ in range(draw(st.integers(1, 6))):
        weekday = draw(st.integers(1, 7))
        start = draw(st.integers(0, 47)) * 30
        length = draw(st.integers(1, 32)) * 30  # up to 16 h, overnight allowed
        end = (start + length) % 1440
        candidate = WorkingInterval(
            weekday, time(start // 60, start % 60), time(end // 60, end % 60)
        )
        if not overlapping([*intervals, candidate]):
            intervals.append(candidate)
    holidays = draw(st.lists(st.dates(date(2024, 12, 1), date(2026, 2, 1)), max_size=20))
    return BusinessCalendar(
        timezone=draw(st.sampled_from(ZONES)),
        intervals=intervals,
        holidays=holidays,
        yearly_holidays=draw(st.lists(st.sampled_from([(1, 1), (12, 25), (7, 4)]), max_size=2)),
        country=draw(st.sampled_from([None, "US", "DE"])),
    )


instants = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2025, 12, 31),
    timezones=st.just(UTC),
)
# Amounts as millionths of the calendar's weekly working time, up to forty weeks of work, so a
# sparse schedule is not asked for years of it.
amounts = st.integers(1, 40_000_000)


def work(calendar: BusinessCalendar, millionths: int) -> timedelta:
    weekly = sum(end - start for start, end in (iv.week_range() for iv in calendar.intervals))
    return timedelta(microseconds=max(1, weekly * millionths))


LAWS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@LAWS
@given(calendars(), instants, amounts)
def test_adding_then_counting_gives_back_the_amount(
    calendar: BusinessCalendar, start: datetime, millionths: int
) -> None:
    amount = work(calendar, millionths)
    due = calendar.add(start, amount)
    assert calendar.between(start, due) == amount


@LAWS
@given(calendars(), instants, amounts)
def test_an_added_instant_is_never_outside_working_time(
    calendar: BusinessCalendar, start: datetime, millionths: int
) -> None:
    assert calendar.is_working(calendar.add(start, work(calendar, millionths)))


@LAWS
@given(calendars(), st.lists(instants, min_size=3, max_size=3))
def test_counting_is_additive_over_adjacent_spans(
    calendar: BusinessCalendar, points: list[datetime]
) -> None:
    a, b, c = sorted(points)
    assert calendar.between(a, b) + calendar.between(b, c) == calendar.between(a, c)
    assert calendar.between(a, c) <= c - a


@LAWS
@given(calendars(), instants, amounts, amounts)
def test_adding_is_monotonic_and_composes(
    calendar: BusinessCalendar, start: datetime, a: int, b: int
) -> None:
    first, second = work(calendar, a // 2), work(calendar, b // 2)
    once = calendar.add(start, first + second)
    assert calendar.add(calendar.add(start, first), second) == once
    assert calendar.add(start, first) <= once
