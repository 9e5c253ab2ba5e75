"""Working days: Monday to Friday, except the public holidays in ``Holiday``, plus the
weekend days marked as make-up working days (调休).

A deadline of N working days keeps the time of day: created Friday 15:00 with one
working day → due Monday 15:00. Work created on a day off starts its clock at the start
of business (``WORKBENCH_REFERRAL_BUSINESS_START_HOUR``) of the next working day.

Calls are planned in call slots: the configured call hours (``WORKBENCH_CALL_HOURS_*``,
the same hours the contact policy allows marketing calls in) on a working day. A nurture
touch or a callback is never planned outside one, so it never lands at night or on a
holiday and never starts its life overdue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from .models import Holiday, HolidayKind


def _parse_hhmm(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def call_hours() -> tuple[dt.time, dt.time, ZoneInfo]:
    """The daily call hours (start, end, time zone), read from the settings at each call."""
    return (
        _parse_hhmm(settings.WORKBENCH_CALL_HOURS_START),
        _parse_hhmm(settings.WORKBENCH_CALL_HOURS_END),
        ZoneInfo(settings.WORKBENCH_CALL_HOURS_TZ),
    )


class Calendar:
    """Working days over a holiday table loaded once (one query per computation)."""

    def __init__(self, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = ()):
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)

    @classmethod
    def load(cls) -> Calendar:
        holidays, workdays = [], []
        for day, kind in Holiday.objects.values_list("date", "kind"):
            (workdays if kind == HolidayKind.WORKDAY else holidays).append(day)
        return cls(holidays, workdays)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def next_working_day(self, day: dt.date) -> dt.date:
        day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, start: dt.datetime, days: int | float) -> dt.datetime:
        """``start`` plus ``days`` working days (aware in, aware out, same time of day)."""
        tz = timezone.get_current_timezone()
        local = timezone.localtime(start, tz)
        if not self.is_working_day(local.date()):
            opens = dt.time(hour=settings.WORKBENCH_REFERRAL_BUSINESS_START_HOUR)
            local = dt.datetime.combine(self.next_working_day(local.date()), opens, tzinfo=tz)
        whole = int(days)
        day = local.date()
        for _ in range(whole):
            day = self.next_working_day(day)
        result = dt.datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz)
        fraction = days - whole
        if fraction:
            result += dt.timedelta(hours=24 * fraction)
        return result

    def working_days_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working days elapsed from ``start`` to ``end`` (days off do not count)."""
        if end <= start:
            return 0.0
        tz = timezone.get_current_timezone()
        a, b = timezone.localtime(start, tz), timezone.localtime(end, tz)
        total = dt.timedelta()
        cursor = a
        while cursor < b:
            next_midnight = dt.datetime.combine(cursor.date() + dt.timedelta(days=1), dt.time(), tzinfo=tz)
            segment_end = min(next_midnight, b)
            if self.is_working_day(cursor.date()):
                total += segment_end - cursor
            cursor = segment_end
        return total.total_seconds() / 86400

    def in_call_slot(self, at: dt.datetime) -> bool:
        """Whether ``at`` falls inside the call hours of a working day."""
        start, end, tz = call_hours()
        local = at.astimezone(tz)
        return self.is_working_day(local.date()) and start <= local.time() < end

    def next_call_slot(self, at: dt.datetime) -> dt.datetime:
        """``at`` if it falls in a call slot, else the opening of the next one (aware, UTC)."""
        start, end, tz = call_hours()
        local = at.astimezone(tz)
        day = local.date()
        if self.is_working_day(day) and local.time() < end:
            if local.time() >= start:
                return at.astimezone(dt.UTC)
            return dt.datetime.combine(day, start, tzinfo=tz).astimezone(dt.UTC)
        return dt.datetime.combine(self.next_working_day(day), start, tzinfo=tz).astimezone(dt.UTC)
