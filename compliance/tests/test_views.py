"""Pages: access per role and row, query counts pinned, bad input gets a message and changes nothing."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from compliance.models import (
    Flag,
    FlagKind,
    FlagOutcome,
    FlagStatus,
    LexiconRule,
    LexiconRuleStats,
    Script,
    ScriptPurpose,
    VersionStatus,
)
from compliance.services import flags as flag_services
from compliance.services import qa as qa_services
from compliance.services import scripts as script_services
from compliance.services import surveillance as surveillance_services
from compliance.tests.factories import CLEAN_WEALTH_BODY, approved_script
from core.models import AuditEvent
from customers.tests.factories import CustomerFactory, ProductFactory
from org.roles import staff_name

pytestmark = pytest.mark.django_db


def submitted(world, body="这款产品是保本的。"):
    v = script_services.script_create(
        actor=world.advisor_a,
        title="保本话术",
        purpose=ScriptPurpose.PRODUCT_INTRO,
        body=body,
        product=ProductFactory(risk_level=2),
    )
    return script_services.script_submit_for_review(actor=world.advisor_a, version=v)


def flags(world, n=3):
    customer = CustomerFactory(owner=world.advisor_a)
    for i in range(n):
        surveillance_services.communication_scan(
            source="call_note",
            object_id=1000 + i,
            text=f"第{i}次通话：这款产品是保本的。",
            advisor_id=(world.advisor_a if i % 2 == 0 else world.advisor_b).pk,
            customer_id=customer.pk,
            occurred_at=timezone.now() - dt.timedelta(days=i),
        )
    return list(Flag.objects.order_by("pk"))


# --- access per role ------------------------------------------------------------------------

OFFICER_PAGES = [
    "compliance:review_queue",
    "compliance:script_reviews",
    "compliance:lexicon",
    "compliance:qa_settings",
    "compliance:rescan",
    "compliance:lexicon_try",
]


@pytest.mark.parametrize("name", OFFICER_PAGES)
@pytest.mark.parametrize(
    ("who", "status"), [("compliance", 200), ("admin", 200), ("advisor_a", 403), ("lead_a", 403), ("manager_x", 403)]
)
def test_officer_pages_by_role(world, client_for, name, who, status):
    assert client_for(getattr(world, who)).get(reverse(name)).status_code == status


@pytest.mark.parametrize(
    ("who", "status"), [("compliance", 200), ("admin", 200), ("lead_a", 200), ("advisor_a", 403), ("manager_x", 403)]
)
def test_reports_by_role(world, client_for, who, status):
    assert client_for(getattr(world, who)).get(reverse("compliance:reports")).status_code == status


@pytest.mark.parametrize("who", ["advisor_a", "lead_a", "manager_x", "compliance", "admin"])
def test_script_library_is_for_everyone(world, client_for, who):
    v = approved_script(author=world.advisor_a2, officer=world.compliance)
    response = client_for(getattr(world, who)).get(reverse("compliance:scripts"))
    assert response.status_code == 200
    assert v.script.title in response.content.decode()


def test_only_compliance_can_create_lexicon_rules(world, client_for):
    assert client_for(world.admin).get(reverse("compliance:lexicon_create")).status_code == 403
    rule = LexiconRule.objects.first()
    response = client_for(world.admin).post(reverse("compliance:lexicon_edit", args=[rule.pk]), {"pattern": "x"})
    assert response.status_code == 403


def test_drafts_are_private_to_author_and_officers(world, client_for):
    v = submitted(world)
    url = reverse("compliance:script_detail", args=[v.script_id])
    assert client_for(world.advisor_a).get(url).status_code == 200
    assert client_for(world.compliance).get(url).status_code == 200
    assert client_for(world.advisor_b).get(url).status_code == 404
    assert client_for(world.advisor_a).get(reverse("compliance:version_review", args=[v.pk])).status_code == 403


class TestFlagVisibility:
    def test_advisor_sees_only_outcomes_of_own_flags(self, world, client_for):
        own, other, own2 = flags(world)
        flag_services.flag_close(actor=world.compliance, flag=own, outcome=FlagOutcome.COACHING, comment="请注意措辞")
        flag_services.flag_close(actor=world.compliance, flag=other, outcome=FlagOutcome.COACHING, comment="别人的")
        c = client_for(world.advisor_a)
        body = c.get(reverse("compliance:my_flags")).content.decode()
        assert "请注意措辞" in body and "别人的" not in body
        assert c.get(reverse("compliance:flag_detail", args=[own.pk])).status_code == 200
        assert c.get(reverse("compliance:flag_detail", args=[other.pk])).status_code == 404
        assert c.get(reverse("compliance:flag_detail", args=[own2.pk])).status_code == 404  # still under review
        response = c.post(reverse("compliance:flag_close", args=[own2.pk]), {"outcome": "no_issue", "comment": "x"})
        assert response.status_code == 404
        own2.refresh_from_db()
        assert own2.status == FlagStatus.OPEN

    def test_team_lead_sees_the_team(self, world, client_for):
        own, other, _ = flags(world)
        for f in (own, other):
            flag_services.flag_close(actor=world.compliance, flag=f, outcome=FlagOutcome.COACHING, comment=f"fb{f.pk}")
        body = client_for(world.lead_a).get(reverse("compliance:my_flags")).content.decode()
        assert f"fb{own.pk}" in body and f"fb{other.pk}" not in body

    def test_officer_closes_from_the_screen(self, world, client_for):
        flag = flags(world, 1)[0]
        c = client_for(world.compliance)
        c.post(reverse("compliance:flag_claim", args=[flag.pk]))
        response = c.post(reverse("compliance:flag_close", args=[flag.pk]), {"outcome": "violation", "comment": ""})
        assert response.status_code == 302
        flag.refresh_from_db()
        assert flag.status == FlagStatus.CLAIMED  # no comment: nothing changed
        c.post(reverse("compliance:flag_close", args=[flag.pk]), {"outcome": "violation", "comment": "确认违规"})
        flag.refresh_from_db()
        assert flag.outcome == FlagOutcome.VIOLATION

    def test_bulk_close_from_the_queue(self, world, client_for):
        fs = flags(world)
        c = client_for(world.compliance)
        response = c.post(
            reverse("compliance:flags_bulk_close"), {"flag_ids": [fs[0].pk, fs[1].pk], "reason": "客户原话"}
        )
        assert response.status_code == 302
        assert Flag.objects.filter(status=FlagStatus.CLOSED).count() == 2
        c.post(reverse("compliance:flags_bulk_close"), {"flag_ids": [fs[2].pk], "reason": ""}, follow=True)
        assert Flag.objects.filter(status=FlagStatus.CLOSED).count() == 2
        assert (
            client_for(world.advisor_a)
            .post(reverse("compliance:flags_bulk_close"), {"flag_ids": [fs[2].pk], "reason": "x"})
            .status_code
            == 403
        )


# --- query counts -------------------------------------------------------------------------


@pytest.mark.parametrize("n_rows", [1, 6])
def test_list_query_counts_do_not_grow_with_rows(world, client_for, django_assert_num_queries, n_rows):
    for i in range(n_rows):
        approved_script(author=world.advisor_a2, officer=world.compliance, title=f"话术{i}")
        surveillance_services.communication_scan(
            source="transcript",
            object_id=i,
            text="本金不会亏的",
            advisor_id=world.advisor_a.pk,
            occurred_at=timezone.now(),
        )
        submitted(world)
    c = client_for(world.compliance)
    c.get(reverse("compliance:scripts"))  # warm caches (scanner, content types)
    expected = {
        "compliance:scripts": 6,
        "compliance:review_queue": 6,
        "compliance:script_reviews": 5,
        "compliance:lexicon": 6,
        "compliance:reports": 10,  # was 11: the unused count of open versions is gone
        "compliance:my_flags": 4,
    }
    for name, n in expected.items():
        with django_assert_num_queries(n):
            assert c.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("n_reviewed", [0, 40])
def test_lexicon_page_query_count_is_the_same_with_hits_and_review_outcomes(
    world, client_for, django_assert_num_queries, n_reviewed
):
    """Hits and precision are read with the rules (one row of kept statistics per rule),
    never counted per row: the page's queries do not grow with rules that have them."""
    rules = list(LexiconRule.objects.order_by("category", "code")[:n_reviewed])
    LexiconRuleStats.objects.bulk_create(
        [LexiconRuleStats(rule=r, hits=7 + i, confirmed=3, dismissed=1) for i, r in enumerate(rules)]
    )
    c = client_for(world.compliance)
    c.get(reverse("compliance:lexicon"))  # warm caches
    with django_assert_num_queries(6):
        body = c.get(reverse("compliance:lexicon")).content.decode()
    tbody = body.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    assert tbody.count("<tr") == 25  # a page of 25 rules
    assert ("75%" in body) == bool(n_reviewed)  # 3 confirmed of 4 reviewed


def _lexicon_rows(body: str) -> list[list[str]]:
    """The lexicon table's rows as lists of cell HTML."""
    tbody = body.split('data-testid="lexicon-table"', 1)[1].split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return [[cell.split("</td>", 1)[0] for cell in row.split("<td")[1:]] for row in tbody.split("<tr")[1:]]


def test_lexicon_rows_keep_every_column_word_and_sort(world, client_for, django_assert_num_queries):
    """The lexicon's rows are written by a row template (django-tables2's per-cell rendering
    was most of the page's time): eight cells a row with the same words, every sortable
    column still sorts, and the queries stay at six whatever the order."""
    rules = list(LexiconRule.objects.order_by("category", "code")[:3])
    LexiconRuleStats.objects.create(rule=rules[0], hits=900, confirmed=3, dismissed=1)
    LexiconRule.objects.filter(pk=rules[0].pk).update(owner=world.advisor_a, is_active=False)
    LexiconRule.objects.filter(pk=rules[1].pk).update(active_from=dt.date(2026, 1, 5), negation_suppresses=False)
    c = client_for(world.compliance)
    url = reverse("compliance:lexicon")
    c.get(url)  # warm caches
    with django_assert_num_queries(6):
        rows = _lexicon_rows(c.get(url).content.decode())
    assert len(rows) == 25 and all(len(r) == 8 for r in rows)
    by_code = {r[0].split(">", 2)[2].split("<", 1)[0]: r for r in rows}
    first = by_code[rules[0].code]
    assert f'href="{reverse("compliance:lexicon_edit", args=[rules[0].pk])}"' in first[0]
    assert f"<code>{rules[0].pattern}</code>" in first[1]
    assert rules[0].get_category_display() in first[2] and rules[0].get_language_display() in first[2]
    assert f'">{rules[0].get_severity_display()}</span>' in first[3]
    assert first[4].endswith(">900") and 'title="已复核 4 条，其中确认 3 条">75%' in first[5]
    assert first[6].endswith(">✘") and first[7].endswith(">王顾问")
    second = by_code[rules[1].code]
    assert second[6].endswith(">2026-01-05 – …") and "不判断否定" in second[1]
    assert second[4].endswith(">0") and second[5].endswith(">—") and second[7].endswith(">—")

    def column(sort: str, index: int) -> list[str]:
        with django_assert_num_queries(6):
            body = c.get(url, {"sort": sort}).content.decode()
        return [
            r[index].rsplit(">", 1)[-1] if index != 0 else r[0].split(">", 2)[2].split("<", 1)[0]
            for r in _lexicon_rows(body)
        ]

    def in_db_order(*order_by: str, shown) -> list[str]:
        # What the column should show when the database sorts: ties show the same word.
        return [shown(rule) for rule in LexiconRule.objects.select_related("stats").order_by(*order_by)[:25]]

    assert column("code", 0) == in_db_order("code", shown=lambda r: r.code)
    assert column("-code", 0) == in_db_order("-code", shown=lambda r: r.code)
    hits = {s.rule_id: str(s.hits) for s in LexiconRuleStats.objects.all()}
    assert column("-hits", 4) == in_db_order("-stats__hits", shown=lambda r: hits.get(r.pk, "0"))
    assert column("owner", 7) == in_db_order("owner__username", shown=lambda r: "王顾问" if r.owner_id else "—")
    assert column("active", 6)[0] == "✘"  # inactive first
    assert len(column("-severity", 3)) == len(column("-pattern", 1)) == len(column("category", 2)) == 25
    empty = _lexicon_rows(c.get(url, {"q": "no rule has this phrase"}).content.decode())
    assert len(empty) == 1 and 'colspan="8"' in empty[0][0] and "没有符合条件的规则" in empty[0][0]


def test_detail_query_counts(world, client_for, django_assert_num_queries):
    v = submitted(world)
    flag = flags(world, 1)[0]
    c = client_for(world.compliance)
    with django_assert_num_queries(7):
        assert c.get(reverse("compliance:version_review", args=[v.pk])).status_code == 200
    # was 9: the call link is the stored source_url now, no look-up of the call log;
    # + 1: the PIPL access record (the page shows the customer's name and words)
    with django_assert_num_queries(9):
        assert c.get(reverse("compliance:flag_detail", args=[flag.pk])).status_code == 200
    with django_assert_num_queries(7):
        assert c.get(reverse("compliance:script_detail", args=[v.script_id])).status_code == 200


# --- review screen ------------------------------------------------------------------------


def test_review_screen_highlights_and_blocks_approval(world, client_for):
    v = submitted(world)
    c = client_for(world.compliance)
    n_evidence = v.reviews.count()
    body = c.get(reverse("compliance:version_review", args=[v.pk])).content.decode()
    assert '<mark class="wb-hit wb-sev-high"' in body and ">保本</mark>" in body
    assert 'data-testid="approve-blocked"' in body
    assert v.reviews.count() == n_evidence  # opening is not a review
    response = c.post(reverse("compliance:version_approve", args=[v.pk]), {"acknowledge_medium": "on"}, follow=True)
    assert "无法批准" in response.content.decode()
    v.refresh_from_db()
    assert v.status == VersionStatus.SUBMITTED
    c.post(reverse("compliance:version_reject", args=[v.pk]), {"comment": ""})
    v.refresh_from_db()
    assert v.status == VersionStatus.SUBMITTED
    c.post(reverse("compliance:version_reject", args=[v.pk]), {"comment": "删除保本表述"})
    v.refresh_from_db()
    assert v.status == VersionStatus.REJECTED


def test_review_screen_escapes_untrusted_text(world, client_for):
    v = submitted(world, body="<script>alert(1)</script>保本")
    body = client_for(world.compliance).get(reverse("compliance:version_review", args=[v.pk])).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body


def test_diff_against_previous_approved_version(world, client_for):
    v1 = approved_script(author=world.advisor_a, officer=world.compliance)
    v2 = script_services.script_revise(actor=world.advisor_a, script=v1.script)
    script_services.script_version_update(
        actor=world.advisor_a, version=v2, title="t", body=CLEAN_WEALTH_BODY + "欢迎来电。"
    )
    script_services.script_submit_for_review(actor=world.advisor_a, version=v2)
    body = client_for(world.compliance).get(reverse("compliance:version_review", args=[v2.pk])).content.decode()
    assert "<ins>欢迎来电。</ins>" in body


def test_bad_script_input_shows_a_message_and_changes_nothing(world, client_for):
    c = client_for(world.advisor_a)
    response = c.post(reverse("compliance:script_create"), {"title": "", "purpose": "opening", "body": ""})
    assert response.status_code == 200
    assert "这个字段是必填项" in response.content.decode() or "必填" in response.content.decode()
    response = c.post(reverse("compliance:script_create"), {"title": "x", "purpose": "opening", "body": "y"})
    assert "请选择产品或产品类型" in response.content.decode()
    assert not Script.objects.exists()


def test_bad_lexicon_regex_shows_a_message_in_english_too(world, client_for):
    c = client_for(world.compliance)
    data = {"pattern": "(", "is_regex": "on", "language": "zh", "category": "guarantee", "severity": "high"}
    n = LexiconRule.objects.count()
    body = c.post(reverse("compliance:lexicon_create"), data).content.decode()
    assert "正则表达式无效" in body
    body = c.post(reverse("compliance:lexicon_create"), data, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    c.cookies["django_language"] = "en"
    body = c.post(reverse("compliance:lexicon_create"), data).content.decode()
    assert "This regular expression is not valid" in body
    assert LexiconRule.objects.count() == n


def test_lexicon_edit_from_the_ui_is_versioned(world, client_for):
    rule = LexiconRule.objects.get(pattern="保本")
    c = client_for(world.compliance)
    data = {
        "pattern": "保本",
        "language": "zh",
        "category": "guarantee",
        "severity": "medium",
        "negation_suppresses": "on",
        "is_active": "on",
        "note": "试运行",
    }
    assert c.post(reverse("compliance:lexicon_edit", args=[rule.pk]), data).status_code == 302
    rule.refresh_from_db()
    assert (rule.version, rule.severity) == (2, "medium")
    body = c.get(reverse("compliance:lexicon_edit", args=[rule.pk])).content.decode()
    assert "high → medium" in body


def test_lexicon_try_shows_negated_hits(world, client_for):
    c = client_for(world.compliance)
    body = c.post(reverse("compliance:lexicon_try"), {"text": "本产品不保本；这款是保本的"}).content.decode()
    assert body.count("<mark") == 1


def test_qa_settings_and_rescan_pages(world, client_for, django_capture_on_commit_callbacks):
    c = client_for(world.compliance)
    c.post(reverse("compliance:qa_settings"), {"share_percent": "150", "minimum_per_advisor": "1"})
    assert str(qa_services.qa_config().share_percent) != "150.00"
    c.post(reverse("compliance:qa_settings"), {"share_percent": "5", "minimum_per_advisor": "2"})
    assert qa_services.qa_config().minimum_per_advisor == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("compliance:rescan"), {"date_from": "2026-11-01", "date_to": "2026-11-20"})
    assert response.status_code == 302
    body = c.get(response["Location"]).content.decode()
    assert 'class="wb-job"' in body and 'data-status="succeeded"' in body
    body = c.post(reverse("compliance:rescan"), {"date_from": "2026-11-20", "date_to": "2026-11-01"}).content.decode()
    assert "结束日期早于开始日期" in body


def test_reports_and_audited_exports(world, client_for):
    fs = flags(world)
    flag_services.flag_close(actor=world.compliance, flag=fs[0], outcome=FlagOutcome.VIOLATION, comment="确认")
    submitted(world)
    c = client_for(world.compliance)
    body = c.get(reverse("compliance:reports")).content.decode()
    assert "chart.umd.min.js" in body and 'data-testid="by-advisor"' in body
    csv_response = c.get(reverse("compliance:reports_export", args=["csv"]))
    text = b"".join(csv_response.streaming_content).decode("utf-8-sig")
    assert "王顾问" in text and csv_response["Content-Type"].startswith("text/csv")
    xlsx = c.get(reverse("compliance:reports_export", args=["xlsx"]))
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.active.max_row > 3
    assert AuditEvent.objects.filter(verb="compliance.report_export").count() == 2


def test_team_lead_report_is_limited_to_the_team(world, client_for):
    flags(world)
    body = client_for(world.lead_a).get(reverse("compliance:reports")).content.decode()
    assert "王顾问" in body and "advisor_b" not in body


def test_htmx_filters_swap_only_the_table(world, client_for):
    flags(world, 2)
    c = client_for(world.compliance)
    response = c.get(
        reverse("compliance:review_queue"), {"severity": "high"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="flag-table"
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="flag-table"' in body
    body = c.get(reverse("compliance:scripts"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="library-table").content
    assert b"<html" not in body and b'id="library-table"' in body


def test_pages_render_in_english(world, client_for):
    v = submitted(world)
    c = client_for(world.compliance)
    c.cookies["django_language"] = "en"
    body = c.get(reverse("compliance:version_review", args=[v.pk])).content.decode()
    assert "Approval is blocked" in body and "Text with highlights" in body
    assert "Flags" in c.get(reverse("compliance:review_queue")).content.decode()


def test_flag_page_links_to_the_original_only_when_the_caller_gave_one(world, client_for):
    comm, _ = surveillance_services.communication_scan(
        source="call_note",
        object_id=71,
        text="这款产品是保本的。",
        advisor_id=world.advisor_a.pk,
        occurred_at=timezone.now(),
        source_url="/calls/leads/5/",
    )
    c = client_for(world.compliance)
    body = c.get(reverse("compliance:flag_detail", args=[comm.flags.get().pk])).content.decode()
    assert 'href="/calls/leads/5/"' in body and "通话页面" in body
    bare, _ = surveillance_services.communication_scan(
        source="transcript", object_id=72, text="保本保息", occurred_at=timezone.now()
    )
    body = c.get(reverse("compliance:flag_detail", args=[bare.flags.get().pk])).content.decode()
    assert 'data-testid="source-link"' not in body


def test_advisor_sees_only_the_other_flags_they_may_open(world, client_for):
    def scan(text):
        return surveillance_services.communication_scan(
            source="call_note", object_id=73, text=text, advisor_id=world.advisor_a.pk, occurred_at=timezone.now()
        )

    comm, created = scan("我说这款产品是保本的，额度有限。")
    assert created == 1
    closed = comm.flags.get()
    flag_services.flag_close(actor=world.compliance, flag=closed, outcome=FlagOutcome.COACHING, comment="注意措辞")
    _comm, created = scan("我说这款产品是保本的，额度有限，错过再等一年。")  # the note was edited
    assert created == 1
    still_open = comm.flags.exclude(pk=closed.pk).get()
    body = client_for(world.advisor_a).get(reverse("compliance:flag_detail", args=[closed.pk])).content.decode()
    assert f"/compliance/flags/{still_open.pk}/" not in body
    body = client_for(world.compliance).get(reverse("compliance:flag_detail", args=[closed.pk])).content.decode()
    assert f"/compliance/flags/{still_open.pk}/" in body
    assert 'data-testid="flag-findings"' in body and "额度有限" in body
    assert "time_pressure" not in body and "guarantee" not in body  # categories in words, not codes


def test_an_officer_is_not_offered_to_approve_their_own_script(world, client_for):
    version = script_services.script_create(
        actor=world.compliance,
        title="合规自写话术",
        purpose=ScriptPurpose.PRODUCT_INTRO,
        body=CLEAN_WEALTH_BODY,
        product=ProductFactory(risk_level=2),
    )
    script_services.script_submit_for_review(actor=world.compliance, version=version)
    body = client_for(world.compliance).get(reverse("compliance:version_review", args=[version.pk])).content.decode()
    assert 'data-testid="approve-self"' in body and 'data-testid="approve"' not in body
    assert 'data-testid="reject"' in body


def test_admins_read_the_desk_without_its_buttons(world, client_for):
    c = client_for(world.admin)
    assert 'type="submit">保存' not in c.get(reverse("compliance:qa_settings")).content.decode()
    assert 'type="submit">开始重扫' not in c.get(reverse("compliance:rescan")).content.decode()
    rule = LexiconRule.objects.first()
    assert 'type="submit">保存' not in c.get(reverse("compliance:lexicon_edit", args=[rule.pk])).content.decode()


def test_a_filter_value_the_page_cannot_read_is_ignored(world, client_for):
    flags(world, 2)
    c = client_for(world.compliance)
    response = c.get(reverse("compliance:review_queue"), {"severity": "bogus", "q": "第0次"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('href="/compliance/flags/') == 1  # the search still applies
    assert 'value="第0次"' in body


def _flag_rows(body: str) -> list[list[str]]:
    tbody = body.split('data-testid="flag-table"', 1)[1].split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return [[cell.split("</td>", 1)[0] for cell in row.split("<td")[1:]] for row in tbody.split("<tr")[1:]]


def test_review_queue_rows_keep_every_column_and_word(world, client_for, django_assert_num_queries):
    """The review queue's rows come from a row template (django-tables2's per-cell
    rendering was nine tenths of its time): ten cells a row with the same words, a closed
    flag's box disabled, a flag without a category named by its kind, six queries."""
    made = flags(world, 3)
    Flag.objects.filter(pk=made[0].pk).update(status="closed", assignee=world.compliance)
    Flag.objects.filter(pk=made[1].pk).update(category="", kind="qa_sample", severity="")
    c = client_for(world.compliance)
    url = reverse("compliance:review_queue")
    c.get(url)

    def by_id(body: str) -> dict[int, list[str]]:
        return {int(r[1].split("#", 2)[1].split("<", 1)[0]): r for r in _flag_rows(body)}

    with django_assert_num_queries(6):
        rows = by_id(c.get(url).content.decode())
    assert set(rows) == {made[1].pk, made[2].pk}  # closed flags only when asked for
    with django_assert_num_queries(6):
        rows.update(by_id(c.get(url, {"status": "closed"}).content.decode()))
    assert set(rows) == {f.pk for f in made} and all(len(r) == 10 for r in rows.values())
    closed, sampled, open_ = rows[made[0].pk], rows[made[1].pk], rows[made[2].pk]
    assert closed[0].endswith(" disabled>") and not open_[0].endswith(" disabled>")
    assert f'href="{reverse("compliance:flag_detail", args=[made[2].pk])}"' in open_[1]
    assert open_[3].endswith('">高</span>') and open_[4].endswith(">承诺保本保收益")
    assert open_[6].endswith(">通话记录") and open_[7].endswith(">王顾问") and open_[8].endswith(">待处理")
    assert closed[8].endswith(">已关闭") and closed[9].endswith(">" + staff_name(world.compliance))
    with translation.override("zh-hans"):
        kind = str(FlagKind.QA_SAMPLE.label)
    assert sampled[3].endswith(">—") and sampled[4].endswith(">" + kind)
    english = client_for(world.compliance)
    english.cookies["django_language"] = "en"
    en_rows = _flag_rows(english.get(url).content.decode())
    assert any(r[8].endswith(">Open") for r in en_rows)
