import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core.models import AuditEvent
from customers.tests.factories import InteractionFactory
from referrals import services
from referrals.models import Referral, ReferralStatus
from referrals.selectors import _python_medians, referral_dashboard

from .factories import high_lead

S = ReferralStatus


def detail(r):
    return reverse("referrals:detail", kwargs={"pk": r.pk})


@pytest.fixture
def other_branch_referral(world):
    lead = high_lead(advisor=world.advisor_b, team=world.team_b, branch=world.branch_y)
    return services.referral_create(actor=world.advisor_b, lead=lead)


def test_detail_visible_per_role_and_404_for_another_branch(world, client_for, referral, other_branch_referral):
    for user in (world.advisor_a, world.manager_x, world.rm_x, world.compliance, world.lead_a, world.admin):
        assert client_for(user).get(detail(referral)).status_code == 200, user
    for user in (world.manager_y, world.advisor_b, world.advisor_a2):
        assert client_for(user).get(detail(referral)).status_code == 404, user
    assert client_for(world.manager_x).get(detail(other_branch_referral)).status_code == 404
    assert client_for(world.manager_y).get(detail(other_branch_referral)).status_code == 200


def test_detail_escapes_untrusted_transcript_text(world, client_for, referral):
    html = client_for(world.manager_x).get(detail(referral)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "50万的理财下个月到期" in html


def test_list_per_role(world, client_for, referral, other_branch_referral):
    url = reverse("referrals:list")
    manager = client_for(world.manager_x).get(url).content.decode()
    assert f'data-referral="{referral.pk}"' in manager and f'data-referral="{other_branch_referral.pk}"' not in manager
    assert 'data-testid="bulk-form"' in manager
    advisor = client_for(world.advisor_a).get(url).content.decode()
    assert f'data-referral="{referral.pk}"' in advisor and 'data-testid="bulk-form"' not in advisor
    compliance = client_for(world.compliance).get(url + "?tab=all").content.decode()
    assert (
        f'data-referral="{referral.pk}"' in compliance and f'data-referral="{other_branch_referral.pk}"' in compliance
    )
    assert f'data-referral="{referral.pk}"' not in client_for(world.manager_y).get(url).content.decode()


def test_list_htmx_returns_only_the_table(world, client_for, referral):
    response = client_for(world.manager_x).get(
        reverse("referrals:list") + "?tab=inbox&q=", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table"
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and f'data-referral="{referral.pk}"' in body


def test_manager_accepts_through_the_page(world, client_for, referral):
    response = client_for(world.manager_x).post(reverse("referrals:accept", args=[referral.pk]), {"rm": world.rm_x.pk})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == S.ACCEPTED and referral.assigned_rm == world.rm_x


def test_bad_input_gets_a_message_and_changes_nothing(world, client_for, referral):
    c = client_for(world.manager_x)
    response = c.post(reverse("referrals:reject", args=[referral.pk]), {"reason": "other", "note": ""})
    assert response.status_code == 400
    assert "请说明" in response.content.decode() or "Explain the reason" in response.content.decode()
    response = c.post(reverse("referrals:accept", args=[referral.pk]), {"rm": world.manager_y.pk})
    assert response.status_code == 400
    referral.refresh_from_db()
    assert referral.status == S.PENDING
    assert not AuditEvent.objects.filter(verb__in=["referral.reject", "referral.accept"]).exists()


def test_advisor_and_other_branch_cannot_act(world, client_for, referral):
    assert (
        client_for(world.advisor_a)
        .post(reverse("referrals:accept", args=[referral.pk]), {"rm": world.rm_x.pk})
        .status_code
        == 403
    )
    assert (
        client_for(world.rm_x).post(reverse("referrals:accept", args=[referral.pk]), {"rm": world.rm_x.pk}).status_code
        == 403
    )
    assert (
        client_for(world.manager_y)
        .post(reverse("referrals:accept", args=[referral.pk]), {"rm": world.rm_x.pk})
        .status_code
        == 404
    )
    assert (
        client_for(world.compliance)
        .post(reverse("referrals:reject", args=[referral.pk]), {"reason": "not_a_fit"})
        .status_code
        == 403
    )
    referral.refresh_from_db()
    assert referral.status == S.PENDING


def test_rm_logs_follow_up_and_conversion_through_the_page(world, client_for, accepted, product):
    c = client_for(world.rm_x)
    r = c.post(
        reverse("referrals:follow_up", args=[accepted.pk]),
        {"fu-kind": "attempt", "fu-reached": "1", "fu-note": "约周五面谈"},
    )
    assert r.status_code == 302
    r = c.post(
        reverse("referrals:outcome", args=[accepted.pk]),
        {"out-outcome": "converted", "out-product": product.pk, "out-amount": "200000", "out-note": ""},
    )
    assert r.status_code == 302
    accepted.refresh_from_db()
    assert accepted.status == S.CONVERTED and accepted.converted_amount == Decimal("200000")
    advisor_page = client_for(world.advisor_a).get(detail(accepted)).content.decode()
    assert "200,000.00" in advisor_page and "约周五面谈" in advisor_page
    assert 'data-testid="outcome-form"' not in advisor_page  # advisors cannot edit branch-side fields


def test_bulk_accept_page(world, client_for, referral):
    second = services.referral_create(
        actor=world.advisor_a, lead=high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
    )
    r = client_for(world.manager_x).post(
        reverse("referrals:bulk_accept"), {"rm": world.rm_x.pk, "ids": [referral.pk, second.pk]}
    )
    assert r.status_code == 302
    assert Referral.objects.filter(status=S.ACCEPTED, assigned_rm=world.rm_x).count() == 2
    r = client_for(world.manager_x).post(reverse("referrals:bulk_accept"), {"rm": world.rm_x.pk}, follow=True)
    assert "请选择" in r.content.decode() or "Select the referrals" in r.content.decode()


def _many(world, n):
    for _i in range(n):
        lead = high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
        r = services.referral_create(actor=world.advisor_a, lead=lead)
        services.referral_accept(actor=world.manager_x, referral=r, rm=world.rm_x)


def test_query_counts_are_constant(world, client_for, referral, django_assert_num_queries):
    c = client_for(world.manager_x)
    url = reverse("referrals:list") + "?tab=all"
    c.get(url)
    with django_assert_num_queries(7):  # the page's customers in a query of their own
        c.get(url)
    _many(world, 5)
    with django_assert_num_queries(7):
        c.get(url)
    with django_assert_num_queries(8):  # + the RMs and their load
        c.get(reverse("referrals:list"))  # the inbox with the bulk-accept form
    # total and by branch, team, RM in one query + overdue list; without percentile_cont
    # (SQLite) one more for the durations the medians are taken of
    with django_assert_num_queries(5 if connection.vendor == "postgresql" else 6):
        c.get(reverse("referrals:dashboard"))

    worked = Referral.objects.filter(status=S.ACCEPTED).first()
    services.referral_follow_up(actor=world.rm_x, referral=worked, kind="attempt", reached=False)
    # + RM load (reassign) and the product choices (outcome); + the PIPL access record
    with django_assert_num_queries(13):
        c.get(detail(worked))
    for _i in range(3):
        services.referral_follow_up(actor=world.rm_x, referral=worked, kind="note", note="跟进记录")
        InteractionFactory(customer=worked.customer)
    with django_assert_num_queries(13):
        c.get(detail(worked))
    rm = client_for(world.rm_x)
    rm.get(detail(worked))  # the first request after logging in also touches the session
    with django_assert_num_queries(12):  # with the PIPL access record
        rm.get(detail(worked))


def test_dashboard_groupings_agree_with_a_count_per_group_in_one_query(
    world, rm_x2, product, django_assert_num_queries
):
    """Total, branches, teams and RMs come from one query (GROUPING SETS on PostgreSQL,
    a UNION ALL on SQLite); each grouping's figures equal a plain count per group."""
    made = []
    for advisor, team, branch in [
        (world.advisor_a, world.team_a, world.branch_x),
        (world.advisor_a, world.team_a, world.branch_x),
        (world.advisor_b, world.team_b, world.branch_x),
        (world.advisor_b, world.team_b, world.branch_y),
        (world.advisor_b, world.team_b, world.branch_y),
    ]:
        made.append(services.referral_create(actor=advisor, lead=high_lead(advisor=advisor, team=team, branch=branch)))
    services.referral_accept(actor=world.manager_x, referral=made[0], rm=world.rm_x)
    services.referral_accept(actor=world.manager_x, referral=made[1], rm=rm_x2)
    services.referral_accept(actor=world.manager_x, referral=made[2], rm=rm_x2)
    services.referral_record_outcome(
        actor=rm_x2, referral=made[1], outcome=S.CONVERTED, product=product, amount="50000"
    )
    services.referral_reject(actor=world.manager_y, referral=made[3], reason="not_a_fit")
    queries = 1 if connection.vendor == "postgresql" else 2  # SQLite reads the medians' durations once
    with django_assert_num_queries(queries):
        stats = referral_dashboard(user=world.admin)
    every = Referral.objects.all()
    assert stats["total"]["received"] == 5 and stats["total"]["accepted"] == 3 and stats["total"]["rejected"] == 1
    for name, path in [("by_branch", "branch_id"), ("by_team", "from_advisor__staff_profile__team_id")]:
        expected = {}
        for key in every.values_list(path, flat=True):
            expected[key] = expected.get(key, 0) + 1
        assert {row["key"]: row["received"] for row in stats[name]} == expected
    assert {row["key"]: (row["received"], row["converted"]) for row in stats["by_rm"]} == {
        world.rm_x.pk: (1, 0),
        rm_x2.pk: (2, 1),
    }
    assert [row["received"] for row in stats["by_branch"]] == [3, 2]  # most received first
    assert stats["by_rm"][0]["converted_amount"] == Decimal("50000")


def test_dashboard_measures(world, client_for, product):
    leads = [high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x) for _ in range(3)]
    refs = [services.referral_create(actor=world.advisor_a, lead=lead) for lead in leads]
    services.referral_accept(actor=world.manager_x, referral=refs[0], rm=world.rm_x)
    services.referral_accept(actor=world.manager_x, referral=refs[1], rm=world.rm_x)
    services.referral_reject(actor=world.manager_x, referral=refs[2], reason="not_a_fit")
    services.referral_record_outcome(
        actor=world.rm_x, referral=refs[0], outcome=S.CONVERTED, product=product, amount="200000"
    )
    stats = referral_dashboard(user=world.manager_x)
    t = stats["total"]
    assert (t["received"], t["accepted"], t["rejected"], t["converted"]) == (3, 2, 1, 1)
    assert t["acceptance_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert t["conversion_rate"] == 0.5
    assert t["converted_amount"] == Decimal("200000.00")
    assert t["median_hours_to_accept"] is not None and t["median_hours_to_first_contact"] is not None
    assert stats["by_rm"][0]["label"] == "rm_x" and stats["by_rm"][0]["converted"] == 1
    assert stats["by_team"][0]["label"] == world.team_a.name
    assert referral_dashboard(user=world.manager_y)["total"]["received"] == 0
    # the SQLite path computes the same medians in Python
    accept, contact = _python_medians(Referral.objects.all())["total"][None]
    assert round(accept.total_seconds() / 3600, 1) == t["median_hours_to_accept"]
    assert round(contact.total_seconds() / 3600, 1) == t["median_hours_to_first_contact"]
    page = client_for(world.lead_a).get(reverse("referrals:dashboard"))
    assert page.status_code == 200 and "200,000" in page.content.decode()
    assert client_for(world.advisor_a).get(reverse("referrals:dashboard")).status_code == 403
    assert client_for(world.rm_x).get(reverse("referrals:dashboard")).status_code == 403


def test_exports_are_audited_and_scoped(world, client_for, referral, other_branch_referral):
    response = client_for(world.manager_x).get(reverse("referrals:export", args=["csv"]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][0] == str(referral.pk)
    response = client_for(world.compliance).get(reverse("referrals:export", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 3
    exports = AuditEvent.objects.filter(verb="referral.export").order_by("id")
    assert [e.details["format"] for e in exports] == ["csv", "xlsx"]
    assert client_for(world.advisor_a).get(reverse("referrals:export", args=["csv"])).status_code == 403
    assert client_for(world.manager_x).get(reverse("referrals:export", args=["pdf"])).status_code == 400


def test_advisor_cannot_write_branch_side_fields(world, client_for, accepted, product):
    c = client_for(world.advisor_a)
    posts = [
        ("referrals:outcome", {"out-outcome": "converted", "out-product": product.pk, "out-amount": "1"}),
        ("referrals:follow_up", {"fu-kind": "attempt", "fu-reached": "1"}),
        ("referrals:return", {"ret-reason": "x"}),
        ("referrals:reassign", {"rm": world.rm_x.pk}),
    ]
    for name, data in posts:
        assert c.post(reverse(name, args=[accepted.pk]), data).status_code == 403, name
    accepted.refresh_from_db()
    assert accepted.status == S.ACCEPTED and accepted.converted_amount is None


def test_bulk_accept_ignores_another_branchs_ids(world, client_for, referral, other_branch_referral):
    r = client_for(world.manager_x).post(
        reverse("referrals:bulk_accept"), {"rm": world.rm_x.pk, "ids": [referral.pk, other_branch_referral.pk]}
    )
    assert r.status_code == 302
    referral.refresh_from_db()
    other_branch_referral.refresh_from_db()
    assert referral.status == S.ACCEPTED and other_branch_referral.status == S.PENDING


def test_branch_staff_can_open_the_referred_customers_portrait_only(world, client_for, referral, other_branch_referral):
    page = client_for(world.rm_x).get(detail(referral)).content.decode()
    portrait = reverse("customers:detail", args=[referral.customer_id])
    assert portrait in page
    assert client_for(world.rm_x).get(portrait).status_code == 200
    assert (
        client_for(world.rm_x).get(reverse("customers:detail", args=[other_branch_referral.customer_id])).status_code
        == 404
    )


def test_export_audits_the_rows_it_exported_and_defuses_formulas(world, client_for, referral, other_branch_referral):
    referral.customer.name = '=HYPERLINK("http://evil")'
    referral.customer.save(update_fields=["name"])
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client_for(world.compliance).get(reverse("referrals:export", args=["csv"]), {"since": tomorrow})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 1  # the header only: nothing was created after today
    assert AuditEvent.objects.get(verb="referral.export").details["rows"] == 0
    response = client_for(world.compliance).get(reverse("referrals:export", args=["csv"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    names = {row[2] for row in rows[1:]}
    assert '\'=HYPERLINK("http://evil")' in names  # a spreadsheet shows it as text, never runs it
    assert AuditEvent.objects.filter(verb="referral.export").latest("id").details["rows"] == 2


def test_detail_words_the_conversion_and_an_empty_history(world, client_for, referral):
    """The conversion reads 成交 (not the scoring page's 成交数 column, which shares the
    English word), a conversion without a product shows just the amount, and a referral
    with no steps says what will appear."""
    Referral.objects.filter(pk=referral.pk).update(converted_amount=Decimal("5461.33"))
    referral.events.all().delete()
    html = client_for(world.advisor_a).get(detail(referral), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<dt class="col-6">成交</dt><dd class="col-6" data-testid="converted">¥5,461.33</dd>' in html
    assert "成交数" not in html
    assert 'data-testid="history-empty"' in html


def _referral_rows(body: str) -> dict[int, list[str]]:
    tbody = body.split('data-testid="referral-table"', 1)[1].split("<tbody", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in tbody.split("<tr")[1:]:
        pk = int(row.split('data-referral="', 1)[1].split('"', 1)[0])
        rows[pk] = [cell.split("</td>", 1)[0] for cell in row.split("<td")[1:]]
    return rows


def test_list_rows_keep_every_column_and_word(world, client_for, referral):
    """The list's cells are written in Python (the template engine's per-cell tags were
    most of its time): the same columns and words, the check box only in the inbox."""
    rejected = services.referral_create(
        actor=world.advisor_a, lead=high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
    )
    services.referral_reject(actor=world.manager_x, referral=rejected, reason="not_a_fit")
    Referral.objects.filter(pk=rejected.pk).update(score=72.5)
    converted = services.referral_create(
        actor=world.advisor_a, lead=high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
    )
    services.referral_accept(actor=world.manager_x, referral=converted, rm=world.rm_x)
    Referral.objects.filter(pk=converted.pk).update(status=S.CONVERTED, converted_amount=Decimal("12345.6"))
    c = client_for(world.manager_x)

    inbox = _referral_rows(c.get(reverse("referrals:list")).content.decode())
    assert set(inbox) == {referral.pk} and len(inbox[referral.pk]) == 10
    box, customer, status, sla = inbox[referral.pk][:4]
    assert box == f'><input type="checkbox" name="ids" value="{referral.pk}" form="bulk-form" />'
    assert customer.startswith(f'><a href="{detail(referral)}">{referral.customer.name_masked}</a>')
    assert status == '><span class="badge text-bg-warning" data-status="pending">待审核</span>'
    assert 'title="审核"' in sla
    assert inbox[referral.pk][4:7] == [">" + world.branch_x.name, ">王顾问", ">—"]

    rows = _referral_rows(c.get(reverse("referrals:list"), {"tab": "all"}).content.decode())
    assert set(rows) == {referral.pk, rejected.pk, converted.pk} and all(len(r) == 9 for r in rows.values())
    assert rows[rejected.pk][2] == ">—" and rows[rejected.pk][7] == ">不匹配"
    assert 'data-score-then="72.5"' in rows[rejected.pk][6]
    assert rows[converted.pk][7] == "> · ¥12,345.60"
    assert rows[converted.pk][5] == ">" + world.rm_x.staff_profile.display_name
    assert rows[referral.pk][7] == ">—"

    english = client_for(world.manager_x)
    english.cookies["django_language"] = "en"
    rows = _referral_rows(english.get(reverse("referrals:list"), {"tab": "all"}).content.decode())
    assert rows[rejected.pk][1].endswith(">Rejected</span>") and rows[rejected.pk][7] == ">Not a fit"
