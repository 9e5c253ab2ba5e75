"""Recording the kind of touch: the call outcome (calls), the interaction ingest and the
AI-bot/interaction API (customers); and what the cadence counts of them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cadence.selectors import customer_progress, touch_counts
from calls import services as call_services
from calls.forms import CallOutcomeForm
from calls.models import CallLog
from calls.tests.factories import disposition
from campaigns.tests.factories import approved_script
from customers import ingest
from customers.models import Channel, ImportKind, Interaction, Meeting, TouchKind
from customers.services.imports import customers_bulk_upsert
from customers.services.interactions import interaction_record
from leads.tests.factories import LeadFactory
from reports.models import WealthReport

from .factories import TouchFactory, WealthCustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_scans(monkeypatch):
    monkeypatch.setattr(call_services, "request_scan", lambda **kwargs: None)


def _noon() -> dt.datetime:
    """A recent working-day noon in the past (inside call hours), this year."""
    local = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    if local > timezone.localtime() - dt.timedelta(hours=1):
        local -= dt.timedelta(days=1)
    while local.weekday() >= 5:
        local -= dt.timedelta(days=1)
    return local.astimezone(dt.UTC)


def _log(world, lead, *, key="k-1", code="effective", **kw):
    at = _noon()
    entry = call_services.CallEntry(
        idempotency_key=key,
        disposition=disposition(code),
        started_at=at,
        purpose="service",
        service_reason="年度资产配置回顾",
        **kw,
    )
    return call_services.call_log_create(
        actor=world.advisor_a, lead=lead, entry=entry, now=at + dt.timedelta(minutes=5)
    )


def test_a_call_records_its_kind_of_touch_and_the_cadence_counts_it(world):
    customer = WealthCustomerFactory(owner=world.advisor_a, home_branch=world.branch_x)
    lead = LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a)
    call, created = _log(world, lead, touch_kind=TouchKind.REVIEW)
    assert created and call.touch_kind == TouchKind.REVIEW
    assert call.interaction.touch_kind == TouchKind.REVIEW and call.interaction.meeting == Meeting.NONE
    if call.started_at.astimezone(timezone.get_default_timezone()).year == timezone.localdate().year:
        counts = customer_progress(customer=customer).touches
        assert (counts["themed"].done, counts["review"].done, counts["face_to_face"].done) == (1, 1, 0)
    # A retry of the same call counts once.
    _log(world, lead, touch_kind=TouchKind.REVIEW)
    assert Interaction.objects.filter(customer=customer).exclude(touch_kind="").count() == 1


def test_a_touch_needs_an_effective_conversation_and_writes_nothing_otherwise(world):
    customer = WealthCustomerFactory(owner=world.advisor_a)
    lead = LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a)
    with pytest.raises(ValidationError) as exc:
        _log(world, lead, code="no_answer", touch_kind=TouchKind.THEMED)
    assert "touch_kind" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _log(world, lead, touch_kind=TouchKind.REPORT)  # a report is not delivered on a call
    assert "touch_kind" in exc.value.message_dict
    assert not CallLog.objects.exists() and not Interaction.objects.exists()


def test_the_call_form_offers_themed_review_or_none():
    form = CallOutcomeForm()
    assert [value for value, _label in form.fields["touch_kind"].choices] == ["themed", "review", ""]


def test_branch_visits_and_video_calls_are_face_to_face(world):
    customer = WealthCustomerFactory()
    now = timezone.now() - dt.timedelta(minutes=1)
    visit, _ = interaction_record(
        actor=None, customer=customer, channel=Channel.BRANCH_VISIT, occurred_at=now, touch_kind=TouchKind.REVIEW
    )
    video, _ = interaction_record(
        actor=None,
        customer=customer,
        channel=Channel.WECHAT,
        occurred_at=now,
        touch_kind=TouchKind.REVIEW,
        meeting=Meeting.VIDEO,
    )
    phone, _ = interaction_record(
        actor=None, customer=customer, channel=Channel.PHONE, occurred_at=now, touch_kind=TouchKind.REVIEW
    )
    assert (visit.meeting, video.meeting, phone.meeting) == (Meeting.IN_PERSON, Meeting.VIDEO, Meeting.NONE)
    counts = touch_counts(customers=[customer.pk], year=timezone.localdate(now).year)[customer.pk]
    assert counts == {"themed": 3, "review": 3, "face_to_face": 2, "report": 0}


def test_interaction_record_refuses_unknown_kinds(world):
    customer = WealthCustomerFactory()
    for kwargs in ({"touch_kind": "weekly"}, {"meeting": "hologram"}):
        with pytest.raises(ValidationError):
            interaction_record(
                actor=None, customer=customer, channel=Channel.PHONE, occurred_at=timezone.now(), **kwargs
            )
    assert not Interaction.objects.exists()


def _import(world, rows: list[dict]):
    schema = ingest.schema_for(ImportKind.INTERACTIONS)
    results = [ingest.clean_row(schema, i, raw, {}) for i, raw in enumerate(rows)]
    ingest.resolve(schema, [r for r in results if r.data is not None], ingest.Lookups(), {})
    return results, schema


def test_the_interaction_import_takes_the_kind_and_the_meeting(world):
    customer = WealthCustomerFactory()
    when = timezone.localtime(timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    rows = [
        {"external_id": "v-1", "customer_no": customer.customer_no, "channel": "网点到访", "occurred_at": when,
         "touch_kind": "资产配置检视"},
        {"external_id": "v-2", "customer_no": customer.customer_no, "channel": "微信", "occurred_at": when,
         "touch_kind": "review", "meeting": "视频"},
        {"external_id": "v-3", "customer_no": customer.customer_no, "channel": "phone", "occurred_at": when,
         "touch_kind": "主题交流"},
        {"external_id": "v-4", "customer_no": customer.customer_no, "channel": "email", "occurred_at": when,
         "touch_kind": "财富报告"},
    ]  # fmt: skip
    results, _schema = _import(world, rows)
    assert all(not r.errors for r in results)
    data = [r.data for r in results]
    customers_bulk_upsert(actor=world.admin, kind=ImportKind.INTERACTIONS, rows=data, present=set().union(*data))
    got = dict(Interaction.objects.values_list("external_id", "meeting"))
    assert got == {"v-1": Meeting.IN_PERSON, "v-2": Meeting.VIDEO, "v-3": Meeting.NONE, "v-4": Meeting.NONE}
    counts = touch_counts(customers=[customer.pk], year=timezone.localdate().year)[customer.pk]
    assert counts == {"themed": 3, "review": 2, "face_to_face": 2, "report": 1}


def test_the_import_refuses_an_unknown_kind_in_the_uploaders_words(world):
    customer = WealthCustomerFactory()
    results, _schema = _import(
        world,
        [{"external_id": "x", "customer_no": customer.customer_no, "channel": "phone",
          "occurred_at": "2026-01-05 10:00", "touch_kind": "weekly chat"}],
    )  # fmt: skip
    assert results[0].errors and results[0].errors[0]["column"]


def test_touches_of_last_year_and_untyped_ones_do_not_count(world):
    customer = WealthCustomerFactory()
    year = timezone.localdate().year
    tz = timezone.get_default_timezone()
    TouchFactory(customer=customer, occurred_at=dt.datetime(year - 1, 12, 31, 23, 30, tzinfo=tz))
    TouchFactory(customer=customer, occurred_at=dt.datetime(year, 1, 1, 0, 30, tzinfo=tz))
    TouchFactory(customer=customer, touch_kind=TouchKind.NONE)
    assert touch_counts(customers=[customer.pk], year=year)[customer.pk]["themed"] == 1


def test_a_delivered_wealth_report_is_the_years_written_report(world):
    """The "1" of 12-4-2-1 comes from reports/: a report delivered this year counts once,
    a report generated but not sent does not."""
    sent, unsent = (WealthCustomerFactory(owner=world.advisor_a, home_branch=world.branch_x) for _ in range(2))
    now, year = timezone.now(), timezone.localdate().year
    version = approved_script(world).versions.get()
    for customer, delivered in ((sent, now), (unsent, None)):
        WealthReport.objects.create(
            customer=customer,
            year=year,
            language="zh-hans",
            file=f"reports/{year}/t{customer.pk}.pdf",
            text="年度财富报告",
            script_version=version,
            generated_by=world.advisor_a,
            generated_at=now,
            delivered_at=delivered,
        )
    counts = touch_counts(customers=[sent.pk, unsent.pk], year=year)
    assert counts[sent.pk]["report"] == 1 and unsent.pk not in counts
    assert touch_counts(customers=[sent.pk], year=year - 1) == {}
