"""The audit log reads as sentences: verbs and objects in words, details as key–value
text in the user's language, filters a compliance officer uses, columns that wrap."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from core.audit import audit_record, details_text
from core.models import AuditEvent

from .walk import visible_text


def _page(client, **params):
    return client.get(reverse("workbench:audit"), params).content.decode()


def test_verbs_objects_and_details_are_words_not_codes(client_for, world):
    audit_record(
        actor=world.advisor_a,
        verb="referral.reject",
        target_type="referrals.referral",
        target_id=12,
        details={"from": "pending", "to": "rejected", "reason": "客户已在他行办理", "products": ["WM001", "FD002"]},
    )
    audit_record(
        actor=None, verb="job.create", target_type="core.job", target_id=3, details={"kind": "scoring.rescore_all"}
    )
    raw = _page(client_for(world.compliance))
    html = "\n".join(visible_text(raw))
    assert "王顾问" in html and "advisor_a" not in html  # display name, not the username
    assert "转介 #12" in html and "referrals.referral" not in html
    assert "原因：客户已在他行办理" in html and "\\u" not in html
    assert "产品：WM001、FD002" in html
    assert "全量客户重新评分" in html and "scoring.rescore_all" not in html
    assert 'class="small wb-wrap"' in raw  # the details cell wraps: no 2,000 px column


def test_details_in_english(settings, world):
    from django.utils import translation

    with translation.override("en"):
        text = details_text({"from": "new", "count": 3, "dry_run": True, "at": "2026-06-30T09:15:00+08:00"})
    assert text.startswith("from: New; count: 3; check only: yes")  # a status in words, ASCII punctuation
    assert "2026-06-30 09:15" in text


def test_filters_by_who_action_object_and_date(client_for, world):
    audit_record(actor=world.advisor_a, verb="customer.tag_add", target_type="customers.customer", target_id=7)
    audit_record(actor=world.lead_a, verb="lead.confirm_grade", target_type="leads.lead", target_id=8)
    old = audit_record(actor=world.lead_a, verb="lead.claim", target_type="leads.lead", target_id=9)
    AuditEvent.objects.filter(pk=old.pk).update(occurred_at=timezone.now() - dt.timedelta(days=40))
    client = client_for(world.compliance)
    html = _page(client)
    assert f'<option value="{world.advisor_a.pk}">王顾问</option>' in html  # who, by name
    assert 'value="lead.confirm_grade"' in html and 'value="leads.lead"' in html

    by_actor = _page(client, actor=world.advisor_a.pk)
    assert "客户 #7" in by_actor and "线索 #8" not in by_actor
    by_object = _page(client, target_type="leads.lead")
    assert "线索 #8" in by_object and "客户 #7" not in by_object
    by_verb = _page(client, verb="lead.claim")
    assert "线索 #9" in by_verb and "线索 #8" not in by_verb
    recent = _page(client, since=(timezone.localdate() - dt.timedelta(days=7)).isoformat())
    assert "线索 #8" in recent and "线索 #9" not in recent


def test_no_matching_events_says_what_to_do(client_for, world):
    html = _page(client_for(world.compliance), target_id="nothing-like-this")
    assert "没有符合条件的记录" in html
