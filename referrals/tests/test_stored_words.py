"""What the product writes once and stores reads in each reader's language: referral
notifications (written by whoever acted, in any language), the e-mail in the bank's
working language, and rows stored before English was kept beside the Chinese."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from core.audit import audit_value_labels_for, details_text
from core.models import AuditEvent, Job, Notification
from customers.tests.factories import ProductFactory
from leads.models import Grade, LeadStatus
from referrals import services
from referrals.models import ReferralStatus, RejectReason

CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(autouse=True)
def _keep_the_language():
    before = translation.get_language()
    yield
    translation.activate(before)


def _notifications_page(client, lang: str) -> str:
    client.cookies["django_language"] = lang
    html = client.get(reverse("workbench:notifications"), headers={"Accept-Language": lang}).content.decode()
    return html.split("<tbody", 1)[1].split("</tbody>", 1)[0]


@pytest.mark.parametrize("actor_language", ["en", "zh-hans"])
def test_a_notification_reads_in_the_recipients_language_whoever_acted(world, referral, client_for, actor_language):
    with translation.override(actor_language):
        services.referral_reject(
            actor=world.manager_x, referral=referral, reason=RejectReason.ALREADY_SERVED, note="客户已在我行签约"
        )
    n = Notification.objects.get(recipient=world.advisor_a, event_key__endswith=":rejected")
    assert CJK.search(n.title.split("：", 1)[0])  # the working language, as the e-mail has it
    assert n.title_en.startswith("Referral rejected: ") and not CJK.search(n.title_en.split(": ", 1)[0])
    with translation.override("en"):
        label_en = str(RejectReason.ALREADY_SERVED.label)
    assert n.body_en == f"{label_en}: 客户已在我行签约"  # the manager's note stays as written

    client = client_for(world.advisor_a)
    english = _notifications_page(client, "en")
    assert "Referral rejected" in english and label_en in english
    assert not CJK.search(english.replace(referral.customer.name_masked, "").replace("客户已在我行签约", ""))
    chinese = _notifications_page(client, "zh-hans")
    assert n.title in chinese and "Referral rejected" not in chinese


def test_the_email_is_in_the_working_language(world, referral, settings):
    settings.WORKBENCH_REFERRAL_EMAIL = True
    world.advisor_a.email = "advisor@example.com"
    world.advisor_a.save(update_fields=["email"])
    with translation.override("en"), pytest.MonkeyPatch.context() as mp:
        mp.setattr("django.db.transaction.on_commit", lambda fn, using=None, robust=False: fn())
        services.referral_reject(actor=world.manager_x, referral=referral, reason=RejectReason.NOT_A_FIT)
    n = Notification.objects.get(recipient=world.advisor_a, event_key__endswith=":rejected")
    assert [m.subject for m in mail.outbox] == [n.title] and CJK.search(n.title)


BEFORE = [
    ("core", "0004_stored_text_in_english"),
    ("scoring", "0003_chunks_move_to_core"),
    ("referrals", "0003_text_max_length"),
]


@pytest.mark.django_db(transaction=True)
def test_rows_stored_in_chinese_only_are_given_their_english(world, referral):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    notification = apps.get_model("core", "Notification").objects.create(
        recipient_id=world.advisor_a.pk, title="转介已受理：张**", body="人工写的话"
    )
    job = apps.get_model("core", "Job").objects.create(kind="compliance.rescan", message="已新增 3 条预警")
    reasons = [
        {"code": "aum_change_90d", "text": "近 90 天资产增长 20%", "weight": 0.4},
        {"code": "age", "text": "年龄：未知", "weight": 0.1},
        {"code": "x", "text": "无法读回的文字", "weight": 0.05},
    ]
    apps.get_model("referrals", "Referral").objects.filter(pk=referral.pk).update(reasons=reasons)
    apps.get_model("leads", "Lead").objects.filter(pk=referral.lead_id).update(reasons=reasons)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    notification = Notification.objects.get(pk=notification.pk)
    assert (notification.title_en, notification.body_en) == ("Referral accepted: 张**", "")
    assert Job.objects.get(pk=job.pk).message_en == "3 new flags so far"
    referral.refresh_from_db()
    referral.lead.refresh_from_db()
    for stored in (referral.reasons, referral.lead.reasons):
        assert [r.get("text_en") for r in stored] == ["AUM growth of 20% in the last 90 days", "Age: unknown", None]


def test_rejecting_and_returning_have_different_words():
    """A branch rejects a referral (拒绝); a relationship manager returns it to the
    advisor (退回): every wording of the first says 拒绝, none says 退回."""
    with translation.override("zh-hans"):
        rejecting = [
            translation.gettext(m)
            for m in ("Reject", "Reject reason", "rejected at", "reject note", "Referral rejected: %(customer)s")
        ]
        returning = translation.gettext("Referral returned to you: %(customer)s")
    assert all("拒绝" in w and "退回" not in w for w in rejecting), rejecting
    assert "退回" in returning


@pytest.mark.parametrize(
    ("choices", "verb"),
    [
        (ReferralStatus, "referral.lost"),
        (RejectReason, "referral.reject"),
        (LeadStatus, "lead.transition"),
        (Grade, ""),
    ],
)
def test_the_audit_log_words_every_status_and_reason_as_the_pages_do(choices, verb):
    """A rejection's details read "from: pending; to: rejected; reason: already_served",
    in words; a code two apps share ("lost") in the words of the event's own app."""
    words = audit_value_labels_for(verb)
    for code, label in choices.choices:
        assert code in words and str(words[code]) == str(label), code


def test_a_code_two_apps_share_reads_in_the_words_of_the_events_app():
    """ "lost" is a lead's status (已流失) and a referral's (未成交): each event says its own."""
    with translation.override("zh-hans"):
        assert "未成交" in details_text({"to": "lost"}, verb="referral.lost")
        assert "已流失" in details_text({"to": "lost"}, verb="lead.transition")
        assert "已流失" in details_text({"to": "lost"})


def test_a_rejection_in_the_audit_log_is_in_words(world, referral):
    services.referral_reject(actor=world.manager_x, referral=referral, reason=RejectReason.ALREADY_SERVED)
    event = AuditEvent.objects.get(verb="referral.reject", target_id=str(referral.pk))
    with translation.override("en"):
        text = details_text(event.details)
    assert "already_served" not in text and "Already served by the branch" in text
    assert "Pending review" in text and "Rejected" in text


def test_why_a_product_cannot_be_sold_reads_in_the_branchs_language(world, lead, client_for):
    """The verdict is stored with the referral when the advisor makes it, in Chinese: the
    branch manager reading in English read the advisor's Chinese."""
    risky = ProductFactory(risk_level=5)
    with translation.override("zh-hans"):
        referral = services.referral_create(
            actor=world.advisor_a, lead=lead, needs_summary="想了解", products_of_interest=[{"code": risky.code}]
        )
    (check,) = referral.products_of_interest
    assert check["allowed"] is False and check["reasons"] and len(check["reasons_en"]) == len(check["reasons"])
    assert all(CJK.search(r) for r in check["reasons"]) and not any(CJK.search(r) for r in check["reasons_en"])
    client = client_for(world.manager_x)
    client.cookies["django_language"] = "en"
    english = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert all(escape(r) in english for r in check["reasons_en"])
    assert not any(escape(r) in english for r in check["reasons"])
