import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from org.models import Holiday, HolidayKind
from referrals.sla import Calendar, add_working_days, review_due

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h=15, minute=0):
    return dt.datetime(y, m, d, h, minute, tzinfo=SH)


# 2026-11-20 is a Friday.
@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (at(2026, 11, 18), 1, at(2026, 11, 19)),  # Wed → Thu
        (at(2026, 11, 20), 1, at(2026, 11, 23)),  # Fri → Mon, the weekend skipped
        (at(2026, 11, 20), 2, at(2026, 11, 24)),  # Fri + 2 → Tue
        (at(2026, 11, 19), 2, at(2026, 11, 23)),  # Thu + 2 → Mon
        (at(2026, 11, 21, 10), 1, at(2026, 11, 24, 9)),  # Saturday: clock starts Mon 09:00
        (at(2026, 11, 22, 23), 2, at(2026, 11, 25, 9)),  # Sunday night: Mon 09:00 + 2
        (at(2026, 11, 20), 0.5, at(2026, 11, 21, 3)),  # half a day = 12 hours of clock time
    ],
)
def test_add_working_days_skips_weekends(start, days, due):
    assert Calendar().add_working_days(start, days) == due


def test_holidays_and_make_up_working_days():
    # National Day week 2026: Oct 1-7 off, Saturday Oct 10 worked (调休).
    cal = Calendar(holidays=[dt.date(2026, 10, d) for d in range(1, 8)], workdays=[dt.date(2026, 10, 10)])
    assert cal.add_working_days(at(2026, 9, 30), 1) == at(2026, 10, 8)
    assert cal.add_working_days(at(2026, 10, 9), 1) == at(2026, 10, 10)  # Friday → the worked Saturday
    assert cal.add_working_days(at(2026, 10, 9), 2) == at(2026, 10, 12)
    assert not cal.is_working_day(dt.date(2026, 10, 5))


def test_calendar_is_loaded_from_the_database(db):
    Holiday.objects.create(date=dt.date(2026, 11, 23), name="测试假日")
    Holiday.objects.create(date=dt.date(2026, 11, 22), kind=HolidayKind.WORKDAY, name="调休")
    assert add_working_days(at(2026, 11, 20), 1) == at(2026, 11, 22)  # Sunday worked
    assert add_working_days(at(2026, 11, 20), 2) == at(2026, 11, 24)  # Monday off


@override_settings(WORKBENCH_REFERRAL_REVIEW_DAYS=3)
def test_review_deadline_is_configurable(db):
    assert review_due(at(2026, 11, 20)) == at(2026, 11, 25)


def test_working_days_between_ignores_weekend():
    cal = Calendar()
    assert cal.working_days_between(at(2026, 11, 20), at(2026, 11, 23)) == pytest.approx(1.0)
    assert cal.working_days_between(at(2026, 11, 23), at(2026, 11, 20)) == 0.0
