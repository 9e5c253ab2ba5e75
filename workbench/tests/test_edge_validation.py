"""Each input that answered a server error (or was taken silently) before, answered now with
a clear message in the user's language, and nothing changed."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from calls.models import CallLog
from calls.tests.factories import disposition
from core.models import AuditEvent
from customers import ingest
from customers.filters import search_q
from customers.models import Customer, ImportBatch, ImportKind
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory
from leads.tests.factories import LeadFactory
from referrals import services as referral_services
from referrals.models import Referral, ReferralStatus
from referrals.tests.factories import high_lead

HUGE = "9" * 30


@pytest.fixture
def api():
    def _as(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _as


@pytest.fixture
def open_hours(settings, db):
    settings.WORKBENCH_CALL_HOURS_START = "00:00"
    settings.WORKBENCH_CALL_HOURS_END = "23:59"


@pytest.fixture
def referral(world):
    lead = high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
    return referral_services.referral_create(actor=world.advisor_a, lead=lead)


# --- control characters: one edge for pages and the API ------------------------------------


def test_a_nul_byte_in_a_query_string_is_a_400_in_chinese(world, client_for):
    r = client_for(world.admin).get("/customers/", {"q": "王\x00"})
    assert r.status_code == 400
    assert "控制字符" in r.content.decode()


def test_the_message_follows_the_users_language(world, client_for):
    client = client_for(world.admin)
    client.cookies["django_language"] = "en"
    r = client.get("/referrals/", {"status": "\x00"})
    assert r.status_code == 400 and "control characters" in r.content.decode()


def test_a_nul_byte_in_a_form_body_changes_nothing(world, client_for, referral):
    r = client_for(world.manager_x).post(
        reverse("referrals:reject", args=[referral.pk]), {"reason": "other", "note": "不合适\x00"}
    )
    assert r.status_code == 400
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING and referral.reject_note == ""


def test_an_escaped_nul_in_a_json_body_is_refused_but_an_escaped_backslash_is_not(world, api):
    client = api(world.admin)
    bad = client.post("/api/compliance/scan/", data='{"text": "保本\\u0000"}', content_type="application/json")
    assert bad.status_code == 400 and "detail" in bad.json()
    ok = client.post("/api/compliance/scan/", data='{"text": "a\\\\u0000"}', content_type="application/json")
    assert ok.status_code == 200


def test_tabs_and_line_breaks_in_a_textarea_are_fine(world, client_for, referral):
    r = client_for(world.manager_x).post(
        reverse("referrals:reject", args=[referral.pk]), {"reason": "other", "note": "第一行\r\n\t第二行"}
    )
    assert r.status_code in (200, 302)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REJECTED


# --- numbers and dates beyond what a column or a calendar holds ----------------------------


def test_api_limit_beyond_a_bigint_is_capped_at_1000(world, api):
    LeadFactory.create_batch(3, team=world.team_a)
    for url in ("/api/leads/", "/api/call-logs/", "/api/referrals/", "/api/compliance/flags/"):
        r = api(world.admin).get(url, {"limit": HUGE, "offset": HUGE})
        assert r.status_code == 200, url
        assert r.json()["results"] == []
    r = api(world.admin).get("/api/leads/", {"limit": HUGE})
    assert r.status_code == 200 and len(r.json()["results"]) == 3


def test_per_page_that_no_page_can_hold_falls_back_to_the_default(world, client_for):
    CustomerFactory(owner=world.advisor_a)
    for per_page in ("-1", "0", HUGE, "-" + HUGE):
        assert client_for(world.admin).get("/customers/", {"per_page": per_page}).status_code == 200


def test_not_contacted_days_beyond_a_date_is_a_form_error(world, client_for):
    r = client_for(world.admin).get("/customers/", {"not_contacted_days": HUGE})
    assert r.status_code == 200
    assert "36500" in r.content.decode()  # 确保该值小于或等于 36500


def test_metrics_dates_out_of_the_calendar_are_refused_with_a_message(world, client_for):
    for end in ("9999-12-31", "0001-01-02"):
        r = client_for(world.lead_a).get(reverse("calls:kpis"), {"end": end})
        assert r.status_code == 200
        page = r.content.decode()
        assert "2000" in page and "2099" in page or "日期格式" in page


def test_report_dates_out_of_the_calendar_are_refused_with_a_message(world, client_for):
    r = client_for(world.compliance).get(
        reverse("compliance:reports"), {"date_from": "2026-01-01", "date_to": "9999-12-31"}
    )
    assert r.status_code == 200
    assert "2099-12-31" in r.content.decode()


def test_unicode_digits_and_huge_ids_in_the_call_screen(world, client_for):
    lead = LeadFactory(team=world.team_a, owner=world.advisor_a)
    client = client_for(world.advisor_a)
    for value in ("²", HUGE, "-1"):
        assert client.get(reverse("calls:call", args=[lead.pk]), {"product": value}).status_code == 200
        assert client.get(reverse("calls:product_check", args=[lead.pk]), {"products": value}).status_code == 200
    customer = lead.customer
    assert client.get(reverse("customers:tab", args=[customer.pk, "interactions"]), {"before": "²"}).status_code == 200


def _call_post(**overrides):
    data = {
        "idempotency_key": "edge-key-1",
        "purpose": "marketing",
        "started_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "3",
        "disposition": str(disposition("effective").pk),
        "interest": "medium",
        "notes": "",
        "next_action": "none",
    }
    data.update(overrides)
    return data


@pytest.fixture
def callable_lead(world, open_hours):
    customer = CustomerFactory()
    ContactPreferenceFactory(customer=customer, consent=True)
    return LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("products", HUGE, "不是一个有效的值"),
        ("duration_minutes", "abc", "输入一个数字"),
        ("duration_minutes", "-5", "大于或等于0"),
        ("duration_minutes", "100000", "小于或等于600"),
        ("won_amount", "abc", "输入一个数字"),
        ("started_at", "2026-99-99T10:00", "输入一个有效的日期/时间"),
    ],
)
def test_call_form_says_what_is_wrong_and_logs_nothing(world, client_for, callable_lead, field, value, message):
    r = client_for(world.advisor_a).post(
        reverse("calls:log_call", args=[callable_lead.pk]), _call_post(**{field: value})
    )
    assert r.status_code == 400  # the form again, with what is wrong
    assert CallLog.objects.count() == 0
    summary = r.content.decode().split('data-testid="form-errors"')[1].split("</div></div>")[0]
    assert message in summary  # named at the top of the form, whether or not the field is shown


# --- free text has a length ------------------------------------------------------------------


def test_a_10000_character_referral_note_is_refused(world, client_for, api, referral):
    long_note = "很长" * 5000
    r = client_for(world.manager_x).post(
        reverse("referrals:reject", args=[referral.pk]), {"reason": "other", "note": long_note}
    )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING
    r = api(world.manager_x).post(
        f"/api/referrals/{referral.pk}/reject/", {"reason": "other", "note": long_note}, format="json"
    )
    assert r.status_code == 400 and "note" in r.json()
    assert Referral.objects.get(pk=referral.pk).reject_note == ""


def test_every_free_text_column_has_a_maximum_length():
    missing = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label
        in {"core", "org", "customers", "compliance", "leads", "scoring", "referrals", "calls", "campaigns"}
        for field in model._meta.get_fields()
        if field.get_internal_type() == "TextField" and not getattr(field, "max_length", None)
    ]
    assert not missing


# --- the OpenAPI document is true -------------------------------------------------------------


def test_openapi_lists_are_paginated_and_errors_documented():
    doc = SchemaGenerator().get_schema(request=None, public=True)
    paths = doc["paths"]
    for path in ("/api/referrals/", "/api/compliance/flags/", "/api/leads/", "/api/call-logs/"):
        ref = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.split("/")[-1].startswith("Paginated"), path
        assert {"400", "401", "403"} <= set(paths[path]["get"]["responses"]), path
    assert "404" in paths["/api/referrals/{id}/"]["get"]["responses"]
    assert paths["/api/referrals/{id}/"]["get"]["parameters"][0]["schema"]["minimum"] == 0
    lead = doc["components"]["schemas"]["Lead"]["properties"]["confirmed_grade"]
    assert any(s.get("$ref", "").endswith("BlankEnum") for s in lead.get("oneOf", [])), lead


# --- #17: what an advisor or officer may type ------------------------------------------------


def test_an_uploaded_txt_is_refused_with_the_reason(world, client_for):
    upload = SimpleUploadedFile("客户.txt", "customer_no,name\nC1,王\n".encode(), content_type="text/plain")
    r = client_for(world.admin).post(reverse("customers:imports"), {"kind": ImportKind.CUSTOMERS, "file": upload})
    assert r.status_code == 200
    assert "不是 CSV" in r.content.decode()
    assert ImportBatch.objects.count() == 0


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("mobile", "abc", "不是手机号"),
        ("id_number", "123", "不是居民身份证号"),
        ("id_number", "11010519491231002Y", "不是居民身份证号"),
    ],
)
def test_an_import_refuses_a_bad_mobile_or_id_with_a_reason(db, column, value, message):
    schema = ingest.schema_for(ImportKind.CUSTOMERS)
    result = ingest.clean_row(schema, 2, {"customer_no": "C1", "name": "王五", column: value}, {})
    assert result.data is None
    assert any(message in e["message"] for e in result.errors)


def test_an_import_keeps_a_good_mobile_and_id_as_stored(db):
    schema = ingest.schema_for(ImportKind.CUSTOMERS)
    row = {"customer_no": "C1", "name": "王五", "mobile": "+86 138-1234-5678", "id_number": "11010519491231002x"}
    result = ingest.clean_row(schema, 2, row, {})
    assert result.errors == []
    assert result.data["mobile"] == "13812345678" and result.data["id_number"] == "11010519491231002X"


def test_branch_codes_are_listed_on_the_import_page(world, client_for):
    page = client_for(world.admin).get(reverse("customers:imports")).content.decode()
    codes = page.split('data-testid="branch-codes"')[1]
    assert "BX" in codes and "浦东支行" in codes and "BY" in codes


def test_search_finds_a_customer_by_the_full_mobile_and_id_number(world, client_for):
    c = CustomerFactory(owner=world.advisor_a, mobile="13812345678", id_number="11010519491231002X")
    CustomerFactory(owner=world.advisor_a, mobile="13912345678", id_number="110105194912310021")
    for term in ("13812345678", "138 1234 5678", "+86-138-1234-5678", "11010519491231002x"):
        assert list(Customer.objects.filter(search_q(term))) == [c], term
    page = client_for(world.advisor_a).get("/customers/", {"q": "138 1234 5678"}).content.decode()
    assert c.customer_no in page


def test_an_export_by_a_full_number_keeps_it_masked_in_the_audit_log(world, client_for):
    CustomerFactory(owner=world.advisor_a, mobile="13812345678")
    r = client_for(world.admin).get(reverse("customers:export"), {"q": "13812345678"})
    assert r.status_code == 200
    event = AuditEvent.objects.filter(verb="customer.export").latest("pk")
    assert event.details["filters"] == {"q": "138****5678"}


def test_report_range_error_mentions_the_limit_in_english(world, client_for):
    client = client_for(world.compliance)
    client.cookies["django_language"] = "en"
    r = client.get(reverse("compliance:reports"), {"date_from": "9999-01-01", "date_to": "9999-12-31"})
    assert "Choose a date between 1900-01-01 and 2099-12-31." in r.content.decode()
