"""Long ``__in`` lists as one array (core/lookups.py) and ``rows_insert``'s array
literals (core/bulk.py): the same rows as Django's own SQL, on either database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.bulk import rows_insert
from core.lookups import THRESHOLD, array_literal
from core.models import Job, Notification

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 12, 2, 8, 30, 15, 250000, tzinfo=dt.UTC)
AWKWARD = ['引号"里', "back\\slash", "逗号,与{括号}", "NULL", "", " 空格 ", "换行\n", "单'引号"]


def UserFactory():  # noqa: N802 - core's tests cannot use org's factories (layers)
    n = get_user_model().objects.count()
    return get_user_model().objects.create(username=f"lookup{n}")


def _notifications(user, titles):
    at = AT
    columns = ["recipient", "title", "body", "event_key", "created_at", "read_at", "url", "title_en", "body_en"]
    columns += ["target_type", "target_id"]
    rows = [
        (user.pk, title, f"正文 {title}", f"k{i}", at, None if i % 2 else at, "", "", "", "", "")
        for i, title in enumerate(titles)
    ]
    return rows_insert(Notification, columns, rows)


def test_rows_insert_writes_awkward_text_nulls_and_times_exactly():
    user = UserFactory()
    titles = AWKWARD * 20
    assert _notifications(user, titles) == len(titles)
    stored = list(Notification.objects.order_by("pk").values_list("title", "body", "read_at"))
    assert [s[0] for s in stored] == titles
    assert [s[1] for s in stored] == [f"正文 {t}" for t in titles]
    assert [s[2] for s in stored] == [None if i % 2 else AT for i in range(len(titles))]


def test_a_long_list_of_ids_finds_the_same_rows_as_short_ones():
    user = UserFactory()
    _notifications(user, [f"n{i}" for i in range(THRESHOLD * 3)])
    ids = list(Notification.objects.order_by("pk").values_list("pk", flat=True))
    wanted = [*ids[::2], None, ids[0], 10**12]  # None and duplicates ignored; unknown ids match nothing
    with CaptureQueriesContext(connection) as queries:
        found = set(Notification.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert found == set(ids[::2])
    left = set(Notification.objects.exclude(pk__in=wanted).values_list("pk", flat=True))
    assert left == set(ids[1::2])
    by_user = Notification.objects.filter(recipient_id__in=[user.pk] * THRESHOLD + [user.pk + 1] * 5).count()
    assert by_user == len(ids)
    if connection.vendor == "postgresql":
        sql = queries.captured_queries[-1]["sql"]
        assert "= ANY(" in sql and sql.count(",") < 50 + len(wanted)  # one array, not a placeholder per id
        assert len(queries.captured_queries[-1]["sql"]) < 20 * len(wanted)


def test_long_lists_of_strings_match_exactly_even_with_quotes_and_backslashes():
    user = UserFactory()
    titles = [f"{t}-{i}" for i in range(THRESHOLD // len(AWKWARD) + 2) for t in AWKWARD]
    _notifications(user, titles)
    assert Notification.objects.filter(title__in=titles).count() == len(titles)
    assert Notification.objects.filter(title__in=titles[::3]).count() == len(titles[::3])
    assert not Notification.objects.filter(title__in=[t.upper() + "x" for t in titles]).exists()


def test_values_of_another_kind_keep_djangos_own_sql():
    """A JSON key, mixed values and an empty list behave exactly as Django's ``IN``."""
    jobs = [Job.objects.create(kind="test", params={"campaign_id": i}) for i in range(3)]
    found = Job.objects.filter(params__campaign_id__in=list(range(THRESHOLD * 2))).count()
    assert found == len(jobs)
    assert Job.objects.filter(pk__in=[]).count() == 0
    assert Job.objects.filter(kind__in=["test", *range(THRESHOLD)]).count() == len(jobs)


def test_array_literal_escapes_what_postgresql_reads():
    assert array_literal([1, None, True, 'a"b\\c']) == '{1,NULL,t,"a\\"b\\\\c"}'
    assert array_literal([dt.date(2026, 12, 2)]) == '{"2026-12-02"}'


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite refuses an integer beyond 64 bits in any query")
def test_an_id_no_bigint_holds_matches_nothing_as_in_djangos_own_sql():
    user = UserFactory()
    _notifications(user, [f"n{i}" for i in range(3)])
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert Notification.objects.filter(pk__in=[*ids, 2**63]).count() == len(ids)
    assert Notification.objects.filter(pk__in=[*ids, *range(10**6, 10**6 + THRESHOLD), 2**63]).count() == len(ids)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps a string of any length")
def test_rows_insert_refuses_a_string_longer_than_its_column_instead_of_cutting_it():
    user = UserFactory()
    too_long = "k" * (Notification._meta.get_field("event_key").max_length + 1)
    columns = ["recipient", "title", "body", "event_key", "created_at", "url", "title_en", "body_en"]
    with pytest.raises(DataError), transaction.atomic():
        rows_insert(
            Notification, [*columns, "target_type", "target_id"], [(user.pk, "t", "b", too_long, AT, *[""] * 5)]
        )
    assert not Notification.objects.exists()
