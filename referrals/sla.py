"""Referral SLAs: deadlines in working days (``org.calendar``)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from org.calendar import Calendar


def add_working_days(start: dt.datetime, days: int | float, *, calendar: Calendar | None = None) -> dt.datetime:
    return (calendar or Calendar.load()).add_working_days(start, days)


def review_due(created_at: dt.datetime, *, calendar: Calendar | None = None) -> dt.datetime:
    return add_working_days(created_at, settings.WORKBENCH_REFERRAL_REVIEW_DAYS, calendar=calendar)


def first_contact_due(accepted_at: dt.datetime, *, calendar: Calendar | None = None) -> dt.datetime:
    return add_working_days(accepted_at, settings.WORKBENCH_REFERRAL_FIRST_CONTACT_DAYS, calendar=calendar)
