"""Pace arithmetic of the cadence: how many touches of a yearly target are due by a
date, pro rata for the days of the year elapsed (the day itself included), and the date
the next one falls due. Integer arithmetic, so a leap year's 29 February and 31
December come out exact: on 31 December the whole target is due, on 1 January
``target // days`` (nothing for any target under 365)."""

from __future__ import annotations

import calendar
import datetime as dt


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def day_number(day: dt.date) -> int:
    """1 on 1 January, 365 (366 in a leap year) on 31 December."""
    return (day - dt.date(day.year, 1, 1)).days + 1


def expected_by(target: int, day: dt.date) -> int:
    """Touches of ``target`` due by the end of ``day``."""
    return target * day_number(day) // days_in_year(day.year)


def next_due(target: int, done: int, year: int) -> dt.date | None:
    """The first day by which touch number ``done + 1`` is due, None once the target is
    met. The smallest n with ``target * n >= (done + 1) * days``."""
    if target <= 0 or done >= target:
        return None
    days = days_in_year(year)
    n = -(-(done + 1) * days // target)  # ceiling division
    return dt.date(year, 1, 1) + dt.timedelta(days=n - 1)
