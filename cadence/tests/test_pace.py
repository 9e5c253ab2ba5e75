"""Pace on fixed dates: year start, mid-year, year end, and a leap year."""

import datetime as dt

import pytest

from cadence.models import CadenceTargets
from cadence.pace import day_number, expected_by, next_due
from cadence.selectors import progress_of

D = dt.date


@pytest.mark.parametrize(
    ("day", "themed", "reviews", "face", "report"),
    [
        (D(2026, 1, 1), 0, 0, 0, 0),  # year start: nothing due yet
        (D(2026, 1, 31), 1, 0, 0, 0),  # 31/365 of 12 = 1.02
        (D(2026, 7, 1), 5, 1, 0, 0),  # day 182 of 365: just short of half
        (D(2026, 7, 2), 6, 2, 1, 0),  # day 183: past half
        (D(2026, 12, 30), 11, 3, 1, 0),
        (D(2026, 12, 31), 12, 4, 2, 1),  # year end: the whole target
        (D(2028, 2, 29), 1, 0, 0, 0),  # leap day exists: day 60 of 366
        (D(2028, 7, 1), 6, 2, 1, 0),  # leap year: day 183 of 366 is exactly half
        (D(2028, 12, 30), 11, 3, 1, 0),
        (D(2028, 12, 31), 12, 4, 2, 1),  # day 366
    ],
)
def test_expected_by_on_fixed_dates(day, themed, reviews, face, report):
    assert (expected_by(12, day), expected_by(4, day), expected_by(2, day), expected_by(1, day)) == (
        themed,
        reviews,
        face,
        report,
    )


def test_day_numbers():
    assert day_number(D(2026, 1, 1)) == 1
    assert day_number(D(2026, 12, 31)) == 365
    assert day_number(D(2028, 12, 31)) == 366


@pytest.mark.parametrize("year", [2026, 2028])
@pytest.mark.parametrize("target", [1, 2, 4, 12, 52])
def test_next_due_is_the_first_day_the_touch_is_expected(year, target):
    for done in range(target):
        due = next_due(target, done, year)
        assert expected_by(target, due) == done + 1
        if due != D(year, 1, 1):
            assert expected_by(target, due - dt.timedelta(days=1)) == done
    assert next_due(target, target, year) is None
    assert next_due(0, 0, year) is None


def test_next_due_dates():
    assert next_due(12, 0, 2026) == D(2026, 1, 31)
    assert next_due(1, 0, 2026) == D(2026, 12, 31)  # the report: due by year end
    assert next_due(4, 1, 2028) == D(2028, 7, 1)  # the second review of a leap year


def test_progress_on_pace_behind_and_next_touch():
    targets = CadenceTargets()
    mid = D(2026, 7, 2)  # due: 6 themed, 2 reviews, 1 face to face
    on_pace = progress_of({"themed": 6, "review": 2, "face_to_face": 1}, targets=targets, today=mid)
    assert on_pace.on_pace
    assert on_pace.next_touch.key == "themed"  # the 7th themed: day 213, 1 August
    assert on_pace.next_touch.due == D(2026, 8, 1)
    assert on_pace.overdue_days == 0

    behind = progress_of({"themed": 6, "review": 2}, targets=targets, today=mid)
    assert not behind.on_pace
    assert [t.key for t in behind.rows if t.behind] == ["face_to_face"]
    assert behind.next_touch.key == "face_to_face"  # due 2026-07-02, today
    # Nothing at all by mid-year: the first themed interaction is the longest overdue.
    nothing = progress_of({}, targets=targets, today=mid)
    assert nothing.next_touch.key == "themed"
    assert nothing.next_touch.due == D(2026, 1, 31)
    assert nothing.overdue_days == (mid - D(2026, 1, 31)).days
    done = {"themed": 12, "review": 4, "face_to_face": 2, "report": 1}
    year_end = progress_of(done, targets=targets, today=D(2026, 12, 31))
    assert year_end.on_pace and year_end.next_touch is None


def test_a_tie_on_the_date_names_the_most_specific_touch():
    # 31 December of a year with nothing done: every target falls due; the 12th themed,
    # 4th review, 2nd face-to-face review and the report are all due that day.
    targets = CadenceTargets()
    done = {"themed": 11, "review": 3, "face_to_face": 1, "report": 0}
    progress = progress_of(done, targets=targets, today=D(2026, 12, 1))
    assert {t.due for t in progress.touches.values()} == {D(2026, 12, 31)}
    assert progress.next_touch.key == "face_to_face"
