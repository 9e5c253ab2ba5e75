"""The three entry points other features code against (scan_text, approved_scripts_for,
request_scan), with real behaviour."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from compliance.models import Communication, Flag, ScriptPurpose, VersionStatus
from compliance.scanner import ScanResult, scan_text
from compliance.selectors import approved_scripts_for
from compliance.services import lexicon as lexicon_services
from compliance.services import scripts as script_services
from compliance.surveillance import request_scan
from compliance.tests.factories import approved_script
from customers.tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_scan_text_reports_rule_category_severity_and_span():
    text = "王先生您好，这款产品是保本的。"
    result = scan_text(text)
    assert isinstance(result, ScanResult)
    assert len(result.findings) == 1
    f = result.findings[0]
    assert (f.category, f.severity, f.match) == ("guarantee", "high", "保本")
    assert text[f.start : f.end] == "保本"
    assert f.rule.startswith("ZH-GUAR-")
    assert result.missing_disclosures == []  # no product type: no disclosure check


def test_scan_text_with_product_type_checks_disclosures():
    result = scan_text("这款理财很稳健，风险等级R2。", product_type="wealth")
    assert [d.code for d in result.missing_disclosures] == ["risk_statement"]


def test_scan_text_follows_lexicon_changes(world):
    assert scan_text("本周限量发售紫金卡").findings == []
    lexicon_services.lexicon_rule_create(
        actor=world.compliance,
        data={
            "pattern": "限量发售",
            "is_regex": False,
            "language": "zh",
            "category": "time_pressure",
            "severity": "medium",
        },
    )
    assert [f.match for f in scan_text("本周限量发售紫金卡").findings] == ["限量发售"]


def test_approved_scripts_for_returns_latest_approved_version(world):
    product = ProductFactory(risk_level=2)
    v1 = approved_script(author=world.advisor_a, officer=world.compliance, product=product)
    draft = script_services.script_revise(actor=world.advisor_a, script=v1.script)
    # the new draft does not replace the approved version until it is approved itself
    assert [v.pk for v in approved_scripts_for(product=product)] == [v1.pk]
    script_services.script_version_update(
        actor=world.advisor_a, version=draft, title=v1.script.title, body=v1.body + "欢迎咨询。"
    )
    script_services.script_submit_for_review(actor=world.advisor_a, version=draft)
    script_services.script_approve(actor=world.compliance, version=draft, comment="ok", acknowledge_medium=True)
    found = approved_scripts_for(product=product)
    assert [v.pk for v in found] == [draft.pk]
    assert found[0].script.title == v1.script.title
    assert found[0].script.get_purpose_display()
    v1.refresh_from_db()
    assert v1.status == VersionStatus.RETIRED
    assert [v.pk for v in approved_scripts_for(product_type="wealth")] == [draft.pk]
    assert approved_scripts_for(product_type="fund") == []
    assert [v.pk for v in approved_scripts_for(product=product, purpose=ScriptPurpose.PRODUCT_INTRO)] == [draft.pk]
    assert approved_scripts_for(product=product, purpose=ScriptPurpose.CLOSING) == []


def test_approved_scripts_for_matches_type_level_scripts(world):
    product = ProductFactory(risk_level=2)
    other = ProductFactory(risk_level=2)
    v = approved_script(author=world.advisor_a, officer=world.compliance, product=product)
    assert approved_scripts_for(product=other) == []  # written for another product
    assert [x.pk for x in approved_scripts_for(product=product)] == [v.pk]


def test_request_scan_creates_one_flag_per_communication_even_when_run_twice(world, django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    occurred = timezone.now() - dt.timedelta(hours=1)
    kwargs = {
        "source": "call_note",
        "object_id": 4711,
        "text": "客户担心亏损，我说这款产品是保本的，额度有限。",
        "advisor_id": world.advisor_a.pk,
        "customer_id": customer.pk,
        "occurred_at": occurred,
    }
    with django_capture_on_commit_callbacks(execute=True):
        request_scan(**kwargs)
    with django_capture_on_commit_callbacks(execute=True):
        request_scan(**kwargs)  # redelivered / re-saved note
    comm = Communication.objects.get(source="call_note", object_id=4711)
    assert comm.customer_id == customer.pk and comm.advisor_id == world.advisor_a.pk
    assert comm.team_id == world.team_a.pk
    flag = Flag.objects.get(communication=comm)  # one flag, carrying every finding
    assert [f["match"] for f in flag.rule_findings] == ["保本", "额度有限"]
    assert flag.text_snapshot == kwargs["text"] and flag.advisor_id == world.advisor_a.pk
    assert (flag.match, flag.severity) == ("保本", "high")  # the most severe finding leads


def test_request_scan_waits_for_commit_and_ignores_blank_text(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request_scan(source="transcript", object_id=1, text="bot: 本金不会亏的")
        request_scan(source="transcript", object_id=2, text="   ")
    assert len(callbacks) == 1
    assert not Flag.objects.exists()  # nothing before commit
    callbacks[0]()
    assert Flag.objects.get().match == "本金不会亏"


def test_request_scan_rejects_unknown_source():
    with pytest.raises(ValueError):
        request_scan(source="email", object_id=1, text="保本")
