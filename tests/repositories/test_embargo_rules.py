"""The due rule of embargoes, with a controlled clock: a release is never due before its date has
begun in the project's time zone, and always due after, in every zone and across clock changes."""

from __future__ import annotations

import datetime
import functools
import zoneinfo
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given, settings
from hypothesis import strategies as st

from fairlight.env import env_days
from repositories.embargo import (
    EmbargoState,
    days_until,
    embargo_state,
    is_due,
    local_date,
    release_instant,
    reminder_offset,
)

UTC = datetime.UTC
MINUTE = datetime.timedelta(minutes=1)
SECOND = datetime.timedelta(seconds=1)
# Reversals of the local date (clocks falling back across midnight) last hours, not days.
HORIZON = datetime.timedelta(hours=36)


def _loadable(key: str) -> bool:
    try:
        ZoneInfo(key)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return False
    return True


ZONES = sorted(key for key in zoneinfo.available_timezones() if _loadable(key))
# Zones whose clocks changed at or across midnight, where "local midnight" is not simply
# midnight: drawn as often as all the others together.
MIDNIGHT_CHANGES = [
    "America/Goose_Bay",
    "America/St_Johns",
    "America/Nuuk",
    "America/Santiago",
    "America/Havana",
    "America/Asuncion",
    "America/Sao_Paulo",
    "America/Scoresbysund",
    "Atlantic/Azores",
    "Asia/Tehran",
    "Asia/Beirut",
    "Asia/Damascus",
    "Asia/Gaza",
    "Africa/Cairo",
    "Pacific/Apia",
    "Pacific/Fakaofo",
    "Pacific/Kwajalein",
]
any_zone = st.one_of(st.sampled_from(MIDNIGHT_CHANGES), st.sampled_from(ZONES))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=UTC)


# An oracle written independently of repositories.embargo: due at ``now`` means that a clock in
# the zone shows the release date or later at every minute of the next 36 hours.
def oracle_due(release_date: datetime.date, zone: str, now: datetime.datetime) -> bool:
    tz = ZoneInfo(zone)
    minutes = int(HORIZON / MINUTE)
    return all((now + k * MINUTE).astimezone(tz).date() >= release_date for k in range(minutes + 1))


def _offset(tz: ZoneInfo, instant: datetime.datetime) -> datetime.timedelta | None:
    return instant.astimezone(tz).utcoffset()


@functools.cache
def transitions(zone: str, year: int) -> tuple[datetime.datetime, ...]:
    """The instants the zone's offset changes in ``year``: daily samples, then bisection."""
    tz = ZoneInfo(zone)
    found = []
    day = utc(year, 1, 1)
    while day.year == year:
        following = day + datetime.timedelta(days=1)
        if _offset(tz, day) != _offset(tz, following):
            low, high = day, following
            while high - low > SECOND:
                middle = low + (high - low) // 2
                if _offset(tz, middle) == _offset(tz, low):
                    low = middle
                else:
                    high = middle
            found.append(high)
        day = following
    return tuple(found)


# Known instants ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "release", "instant"),
    [
        ("UTC", datetime.date(2030, 6, 1), utc(2030, 6, 1)),
        ("Europe/Berlin", datetime.date(2030, 6, 1), utc(2030, 5, 31, 22)),
        # Berlin's clocks go forward at 02:00 that day; midnight itself is ordinary (CET).
        ("Europe/Berlin", datetime.date(2031, 3, 30), utc(2031, 3, 29, 23)),
        ("Pacific/Kiritimati", datetime.date(2030, 1, 1), utc(2029, 12, 31, 10)),
        ("Pacific/Pago_Pago", datetime.date(2030, 1, 1), utc(2030, 1, 1, 11)),
        # Santiago skips 00:00-01:00: the day starts at 01:00 (-03), which is 04:00 UTC.
        ("America/Santiago", datetime.date(2024, 9, 8), utc(2024, 9, 8, 4)),
        ("America/Havana", datetime.date(2024, 3, 10), utc(2024, 3, 10, 5)),
        # Nuuk goes from Saturday 23:00 straight to Sunday 00:00, at 01:00 UTC.
        ("America/Nuuk", datetime.date(2024, 3, 31), utc(2024, 3, 31, 1)),
        # Samoa skipped 30 December 2011: both dates start when 29 December ends.
        ("Pacific/Apia", datetime.date(2011, 12, 30), utc(2011, 12, 30, 10)),
        ("Pacific/Apia", datetime.date(2011, 12, 31), utc(2011, 12, 30, 10)),
        # Goose Bay fell back at 00:01 to 23:01 the day before: 28 October began twice, at
        # 03:00 and 04:00 UTC; it is due from the second start only.
        ("America/Goose_Bay", datetime.date(1990, 10, 28), utc(1990, 10, 28, 4)),
        ("America/St_Johns", datetime.date(1990, 10, 28), utc(1990, 10, 28, 3, 30)),
        # Tehran fell back at 24:00 to 23:00: 21 September starts at 00:00 +0330 only.
        ("Asia/Tehran", datetime.date(2020, 9, 21), utc(2020, 9, 20, 20, 30)),
    ],
)
def test_known_release_instants(zone: str, release: datetime.date, instant: datetime.datetime) -> None:
    assert release_instant(release, zone) == instant
    assert not is_due(release, zone, instant - SECOND)
    assert is_due(release, zone, instant)
    assert oracle_due(release, zone, instant)
    assert not oracle_due(release, zone, instant - SECOND)


def test_goose_bay_is_not_due_during_the_first_minute_of_the_date() -> None:
    first_start = utc(1990, 10, 28, 3)
    assert local_date(first_start, "America/Goose_Bay") == datetime.date(1990, 10, 28)
    assert not is_due(datetime.date(1990, 10, 28), "America/Goose_Bay", first_start)
    # A minute later the clock shows 27 October again.
    assert local_date(first_start + MINUTE, "America/Goose_Bay") == datetime.date(1990, 10, 27)


def test_dates_beyond_the_supported_range_are_due_or_not_as_expected() -> None:
    now = utc(2030, 1, 1)
    assert is_due(datetime.date(1, 1, 1), "Pacific/Kiritimati", now)
    assert not is_due(datetime.date(9999, 12, 31), "Pacific/Pago_Pago", now)


# Properties over every zone ----------------------------------------------------------------------


@st.composite
def around_a_clock_change(draw: st.DrawFn) -> tuple[str, datetime.date, datetime.datetime]:
    zone = draw(any_zone)
    year = draw(st.integers(min_value=1970, max_value=2037))
    changes = transitions(zone, year)
    if changes:
        centre = draw(st.sampled_from(changes))
    else:
        centre = draw(
            st.datetimes(min_value=datetime.datetime(year, 1, 2), max_value=datetime.datetime(year, 12, 30))
        )
        centre = centre.replace(tzinfo=UTC)
    now = centre + datetime.timedelta(seconds=draw(st.integers(min_value=-2 * 86400, max_value=2 * 86400)))
    release = local_date(centre, zone) + datetime.timedelta(days=draw(st.integers(min_value=-1, max_value=1)))
    return zone, release, now


@settings(max_examples=400, deadline=None)
@given(
    zone=any_zone,
    release=st.dates(min_value=datetime.date(1970, 1, 2), max_value=datetime.date(2037, 12, 30)),
    case=st.none() | around_a_clock_change(),
)
def test_the_release_instant_is_where_the_date_begins_for_good(
    zone: str, release: datetime.date, case: tuple[str, datetime.date, datetime.datetime] | None
) -> None:
    if case is not None:  # a date next to a clock change instead
        zone, release, _ = case
    instant = release_instant(release, zone)
    assert local_date(instant, zone) >= release
    assert local_date(instant - SECOND, zone) < release
    assert local_date(instant - MINUTE, zone) < release  # never due a minute early
    assert oracle_due(release, zone, instant)
    tz = ZoneInfo(zone)
    naive = datetime.datetime.combine(release, datetime.time())
    plain_midnight = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    ordinary = (
        plain_midnight == naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
        and plain_midnight.astimezone(tz).replace(tzinfo=None) == naive
        and not any(abs(t - plain_midnight) < HORIZON for t in transitions(zone, release.year))
    )
    if ordinary:
        assert instant == plain_midnight  # no clock change near: exactly local midnight


@settings(max_examples=400, deadline=None)
@given(case=around_a_clock_change())
def test_due_exactly_when_the_date_has_begun_for_good(
    case: tuple[str, datetime.date, datetime.datetime],
) -> None:
    zone, release, now = case
    due = is_due(release, zone, now)
    assert due == oracle_due(release, zone, now)
    if due:
        assert local_date(now, zone) >= release  # never reported due before its date
        assert days_until(release, zone, now) <= 0


@settings(max_examples=200, deadline=None)
@given(case=around_a_clock_change(), offsets=st.sets(st.integers(min_value=1, max_value=60), max_size=4))
def test_a_reminder_is_due_from_the_start_of_its_day_until_the_release(
    case: tuple[str, datetime.date, datetime.datetime], offsets: set[int]
) -> None:
    zone, release, now = case
    offset = reminder_offset(release_date=release, time_zone=zone, now=now, offsets=offsets)
    if offset is None:
        assert is_due(release, zone, now) or all(
            not oracle_due(release - datetime.timedelta(days=d), zone, now) for d in offsets
        )
    else:
        assert not is_due(release, zone, now)
        assert oracle_due(release - datetime.timedelta(days=offset), zone, now)
        smaller = [d for d in offsets if d < offset]
        assert not any(oracle_due(release - datetime.timedelta(days=d), zone, now) for d in smaller)


# States and offsets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("release", "public", "withdrawn", "state"),
    [
        (None, False, False, EmbargoState.NO_DATE),
        (datetime.date(2030, 6, 2), False, False, EmbargoState.UNDER_EMBARGO),
        (datetime.date(2030, 6, 1), False, False, EmbargoState.OVERDUE),
        (datetime.date(2030, 6, 2), True, False, EmbargoState.RELEASED),
        (datetime.date(2030, 5, 1), True, False, EmbargoState.RELEASED),
        (datetime.date(2030, 6, 2), False, True, EmbargoState.WITHDRAWN),
    ],
)
def test_embargo_states(
    release: datetime.date | None, public: bool, withdrawn: bool, state: EmbargoState
) -> None:
    now = utc(2030, 6, 1, 12)
    assert (
        embargo_state(release_date=release, time_zone="UTC", now=now, public=public, withdrawn=withdrawn)
        == state
    )


def test_the_state_turns_overdue_at_local_midnight_not_utc_midnight() -> None:
    release = datetime.date(2030, 6, 1)
    # 23:59 on 31 May in Auckland (UTC+12) is 11:59 UTC on 31 May; a minute later it is due.
    before = utc(2030, 5, 31, 11, 59)
    for now, state in ((before, EmbargoState.UNDER_EMBARGO), (before + MINUTE, EmbargoState.OVERDUE)):
        got = embargo_state(release_date=release, time_zone="Pacific/Auckland", now=now, public=False)
        assert got == state
    # At the same instants it is still 31 May in Honolulu (UTC-10).
    assert (
        embargo_state(release_date=release, time_zone="Pacific/Honolulu", now=before + MINUTE, public=False)
        == EmbargoState.UNDER_EMBARGO
    )
    assert days_until(release, "Pacific/Auckland", before) == 1
    assert days_until(release, "Pacific/Auckland", before + MINUTE) == 0
    assert days_until(release, "Pacific/Honolulu", before + MINUTE) == 1


@pytest.mark.parametrize(
    ("days_before", "expected"),
    [(40, None), (31, None), (30, 30), (8, 30), (7, 7), (2, 7), (1, 1), (0, None), (-3, None)],
)
def test_the_smallest_begun_offset_is_due(days_before: int, expected: int | None) -> None:
    release = datetime.date(2030, 6, 30)
    now = release_instant(release - datetime.timedelta(days=days_before), "Europe/Lisbon") + MINUTE
    assert (
        reminder_offset(release_date=release, time_zone="Europe/Lisbon", now=now, offsets=(30, 7, 1))
        == expected
    )


def test_a_reminder_is_not_due_a_second_before_local_midnight() -> None:
    release = datetime.date(2030, 6, 30)
    start = release_instant(datetime.date(2030, 6, 23), "Australia/Adelaide")  # 7 days before
    offsets = (30, 7, 1)
    assert (
        reminder_offset(
            release_date=release, time_zone="Australia/Adelaide", now=start - SECOND, offsets=offsets
        )
        == 30
    )
    assert (
        reminder_offset(release_date=release, time_zone="Australia/Adelaide", now=start, offsets=offsets) == 7
    )
    assert reminder_offset(release_date=release, time_zone="UTC", now=start, offsets=()) is None


# The setting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "days"), [("30,7,1", (30, 7, 1)), (" 1, 30 ,7", (30, 7, 1)), ("14", (14,)), ("", ())]
)
def test_reminder_days_are_parsed(value: str, days: tuple[int, ...]) -> None:
    assert (
        env_days(
            "FAIRLIGHT_EMBARGO_REMINDER_DAYS", "30,7,1", environ={"FAIRLIGHT_EMBARGO_REMINDER_DAYS": value}
        )
        == days
    )


def test_reminder_days_default() -> None:
    assert env_days("FAIRLIGHT_EMBARGO_REMINDER_DAYS", "30,7,1", environ={}) == (30, 7, 1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("30,,1", "has an empty entry"),
        ("30,a week", "'a week' is not a whole number of days"),
        ("0", "0 must be between 1 and 3650 days"),
        ("-7", "-7 must be between 1 and 3650 days"),
        ("7,7", "7 is given twice"),
    ],
)
def test_bad_reminder_days_are_refused_with_the_variable_named(value: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="FAIRLIGHT_EMBARGO_REMINDER_DAYS") as raised:
        env_days(
            "FAIRLIGHT_EMBARGO_REMINDER_DAYS", "30,7,1", environ={"FAIRLIGHT_EMBARGO_REMINDER_DAYS": value}
        )
    assert message in str(raised.value)
