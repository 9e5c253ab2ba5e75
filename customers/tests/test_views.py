"""Views per role, masking, reveal, PIPL records, transcript escaping, query counts."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.template import engines
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from customers import models as m
from customers.extensions import PORTRAIT_FACTS, PORTRAIT_TABS, PortraitFact, PortraitTab

from .factories import (
    AssetSnapshotFactory,
    ContactPreferenceFactory,
    CustomerFactory,
    CustomerTagFactory,
    HoldingFactory,
    InteractionFactory,
    ProductFactory,
    RiskAssessmentFactory,
    TagFactory,
)


@pytest.fixture
def rich_customer(world):
    """A customer with a bit of everything, owned by advisor_a."""
    c = CustomerFactory(owner=world.advisor_a, aum=Decimal("320000"), name="张三丰", mobile="13812345678")
    RiskAssessmentFactory(customer=c, level=3)
    today = timezone.localdate()
    for n in range(40):
        AssetSnapshotFactory(customer=c, date=today - dt.timedelta(days=n), aum=Decimal(300000 + n * 100))
    p = ProductFactory(risk_level=2)
    HoldingFactory(customer=c, product=p, maturity_date=today + dt.timedelta(days=10))
    HoldingFactory(customer=c, product=p, maturity_date=today + dt.timedelta(days=200))
    CustomerTagFactory(customer=c, tag=TagFactory(code="likes_funds", category=m.TagCategory.PREFERENCE))
    ContactPreferenceFactory(customer=c, channel=m.Channel.PHONE, consent=True)
    InteractionFactory(customer=c, channel=m.Channel.PHONE, summary="电话回访")
    InteractionFactory(
        customer=c,
        channel=m.Channel.AI_BOT,
        transcript=[{"speaker": "bot", "text": "您好"}, {"speaker": "customer", "text": "<script>alert(1)</script>"}],
        intents=["ask_maturity"],
    )
    ProductFactory(risk_level=5)
    return c


# The portrait's own tabs; "needs" (scoring) and "leads" (referrals) are registered by
# those apps and tested there (scoring/tests/test_portrait_tab.py,
# referrals/tests/test_portrait_tab.py).
TABS = ["assets", "tags", "interactions", "products"]


class TestAccess:
    def test_list_shows_only_visible(self, world, client_for):
        mine = CustomerFactory(owner=world.advisor_a)
        other = CustomerFactory(owner=world.advisor_b)
        html = client_for(world.advisor_a).get(reverse("customers:list")).content.decode()
        assert mine.customer_no in html and other.customer_no not in html

    @pytest.mark.parametrize(
        "who,status",
        [
            ("advisor_a", 200),
            ("lead_a", 200),
            ("compliance", 200),
            ("admin", 200),
            ("advisor_b", 404),
            ("manager_x", 404),
            ("advisor_a2", 404),
        ],
    )
    def test_detail_per_role(self, world, client_for, rich_customer, who, status):
        client = client_for(getattr(world, who))
        assert client.get(reverse("customers:detail", args=[rich_customer.pk])).status_code == status
        for tab in TABS:
            r = client.get(reverse("customers:tab", args=[rich_customer.pk, tab]), HTTP_HX_REQUEST="true")
            assert r.status_code == status

    def test_unknown_tab_404(self, world, client_for, rich_customer):
        r = client_for(world.advisor_a).get(reverse("customers:tab", args=[rich_customer.pk, "nope"]))
        assert r.status_code == 404

    def test_access_log_and_imports_by_role(self, world, client_for):
        assert client_for(world.advisor_a).get(reverse("customers:access_log")).status_code == 403
        assert client_for(world.compliance).get(reverse("customers:access_log")).status_code == 200
        assert client_for(world.advisor_a).get(reverse("customers:imports")).status_code == 403
        assert client_for(world.compliance).get(reverse("customers:imports")).status_code == 403
        assert client_for(world.lead_a).get(reverse("customers:imports")).status_code == 200


class TestPortrait:
    def test_header_masked_and_access_recorded(self, world, client_for, rich_customer):
        html = client_for(world.advisor_a).get(reverse("customers:detail", args=[rich_customer.pk])).content.decode()
        assert "张**" in html and "张三丰" not in html
        assert "138****5678" in html and "13812345678" not in html
        assert 'data-maturing="1"' in html  # holding maturing in 10 days highlighted
        assert html.count('data-maturing="1"') == 1
        rec = m.AccessRecord.objects.get()
        assert rec.user == world.advisor_a and rec.customer == rich_customer and rec.kind == m.AccessKind.VIEW

    def test_transcript_rendered_inert(self, world, client_for, rich_customer):
        r = client_for(world.advisor_a).get(
            reverse("customers:tab", args=[rich_customer.pk, "interactions"]), HTTP_HX_REQUEST="true"
        )
        html = r.content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_tab_direct_url_renders_whole_page(self, world, client_for, rich_customer):
        r = client_for(world.advisor_a).get(reverse("customers:tab", args=[rich_customer.pk, "products"]))
        html = r.content.decode()
        assert 'data-testid="portrait-header"' in html and 'data-testid="excluded-products"' in html

    def test_products_tab_explains_exclusion(self, world, client_for, rich_customer):
        r = client_for(world.advisor_a).get(
            reverse("customers:tab", args=[rich_customer.pk, "products"]), HTTP_HX_REQUEST="true"
        )
        html = r.content.decode()
        assert "R5" in html and "C3" in html

    def test_query_counts_constant(self, world, client_for, rich_customer, django_assert_num_queries):
        client = client_for(world.advisor_a)
        url = reverse("customers:detail", args=[rich_customer.pk])
        client.get(url)  # warm the session
        # session, user, staff profile, customer, access record, snapshots, holdings,
        # 30-day-ago snapshot, contact preferences, 2 x permissions (the next callback,
        # a fact leads registers, is counted in leads/tests/test_portrait_fact.py).
        with django_assert_num_queries(11):
            client.get(url)
        # session, user, staff profile, customer, the access record, then the tab's own reads.
        expected = {"assets": 7, "tags": 7, "interactions": 6, "products": 8}
        for tab, n in expected.items():
            with django_assert_num_queries(n):
                client.get(reverse("customers:tab", args=[rich_customer.pk, tab]), HTTP_HX_REQUEST="true")

    def test_every_tab_loaded_with_htmx_leaves_an_access_record(self, world, client_for, rich_customer):
        client = client_for(world.advisor_a)
        before = m.AccessRecord.objects.filter(customer=rich_customer).count()
        for tab in ("assets", "interactions", "products"):
            client.get(reverse("customers:tab", args=[rich_customer.pk, tab]), HTTP_HX_REQUEST="true")
        records = m.AccessRecord.objects.filter(customer=rich_customer).order_by("id")[before:]
        assert [(r.user, r.details["tab"]) for r in records] == [
            (world.advisor_a, "assets"),
            (world.advisor_a, "interactions"),
            (world.advisor_a, "products"),
        ]

    def test_list_query_count(self, world, client_for, django_assert_num_queries):
        for _ in range(5):
            CustomerFactory(owner=world.advisor_a)
        client = client_for(world.advisor_a)
        client.get(reverse("customers:list"))
        # session, user, profile, 2 x permissions, capped count, page, and one read of each
        # distinct choice list of the filter form: tags (for three selects), owners,
        # branches, teams (customers.filters.quick_fields; it was 18 with a count each).
        with django_assert_num_queries(11):
            client.get(reverse("customers:list"))
        with django_assert_num_queries(6):
            client.get(reverse("customers:list") + "?q=1234", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table")


class TestSearch:
    def test_search_by_number_name_last4(self, world, client_for):
        a = CustomerFactory(owner=world.advisor_a, name="李四", mobile="13900001234", id_number="310101199001019876")
        b = CustomerFactory(owner=world.advisor_a, name="王五", mobile="13900005555", id_number="31010119900101123X")
        client = client_for(world.advisor_a)

        def found(q):
            html = client.get(reverse("customers:list"), {"q": q}).content.decode()
            return {c.customer_no for c in (a, b) if c.customer_no in html}

        assert found(a.customer_no) == {a.customer_no}
        assert found("李") == {a.customer_no}
        assert found("1234") == {a.customer_no}
        assert found("9876") == {a.customer_no}
        assert found("123x") == {b.customer_no}

    def test_filters(self, world, client_for):
        old = CustomerFactory(
            owner=world.advisor_a, risk_assessed_at=timezone.now() - dt.timedelta(days=400), last_contact_at=None
        )
        fresh = CustomerFactory(owner=world.advisor_a, last_contact_at=timezone.now())
        client = client_for(world.advisor_a)
        html = client.get(reverse("customers:list"), {"assessment_expired": "true"}).content.decode()
        assert old.customer_no in html and fresh.customer_no not in html
        html = client.get(reverse("customers:list"), {"not_contacted_days": "30"}).content.decode()
        assert old.customer_no in html and fresh.customer_no not in html


class TestReveal:
    def test_reveal_needs_reason_and_is_recorded(self, world, client_for, rich_customer):
        client = client_for(world.advisor_a)
        url = reverse("customers:reveal", args=[rich_customer.pk])
        r = client.post(url, {"field": "mobile", "reason": ""}, HTTP_HX_REQUEST="true")
        assert r.status_code == 422 and "13812345678" not in r.content.decode()
        assert not m.AccessRecord.objects.filter(kind=m.AccessKind.REVEAL).exists()
        r = client.post(url, {"field": "mobile", "reason": "回电确认到期再投资"}, HTTP_HX_REQUEST="true")
        assert "13812345678" in r.content.decode()
        rec = m.AccessRecord.objects.get(kind=m.AccessKind.REVEAL)
        assert rec.reason == "回电确认到期再投资" and rec.fields == "mobile"
        assert AuditEvent.objects.filter(verb="customer.reveal_pii", target_id=str(rich_customer.pk)).exists()

    def test_reveal_without_permission(self, world, client_for, rich_customer, django_user_model):
        Group.objects.get(name="role:advisor").permissions.clear()
        user = django_user_model.objects.get(pk=world.advisor_a.pk)  # fresh permission cache
        r = client_for(user).post(
            reverse("customers:reveal", args=[rich_customer.pk]), {"field": "mobile", "reason": "need it now"}
        )
        assert r.status_code == 403
        assert not m.AccessRecord.objects.filter(kind=m.AccessKind.REVEAL).exists()


class TestTags:
    def test_add_and_remove_manual_tag_audited(self, world, client_for, rich_customer):
        tag = TagFactory(code="wants_pension", source=m.TagSource.MANUAL, category=m.TagCategory.PREFERENCE)
        client = client_for(world.advisor_a)
        r = client.post(reverse("customers:tag_add", args=[rich_customer.pk]), {"tag": tag.pk}, HTTP_HX_REQUEST="true")
        assert r.status_code == 200 and 'data-tag="wants_pension"' in r.content.decode()
        ct = m.CustomerTag.objects.get(customer=rich_customer, tag=tag)
        assert ct.source == m.TagSource.MANUAL and ct.assigned_by == world.advisor_a
        client.post(reverse("customers:tag_remove", args=[rich_customer.pk, tag.pk]), HTTP_HX_REQUEST="true")
        assert not m.CustomerTag.objects.filter(customer=rich_customer, tag=tag).exists()
        verbs = set(AuditEvent.objects.filter(target_id=str(rich_customer.pk)).values_list("verb", flat=True))
        assert {"customer.tag_add", "customer.tag_remove"} <= verbs

    def test_rule_tag_cannot_be_removed(self, world, client_for, rich_customer):
        ct = m.CustomerTag.objects.get(customer=rich_customer)
        r = client_for(world.advisor_a).post(
            reverse("customers:tag_remove", args=[rich_customer.pk, ct.tag_id]), HTTP_HX_REQUEST="true"
        )
        assert r.status_code == 422
        assert m.CustomerTag.objects.filter(pk=ct.pk).exists()

    def test_compliance_cannot_write(self, world, client_for, rich_customer):
        tag = TagFactory(source=m.TagSource.MANUAL)
        r = client_for(world.compliance).post(reverse("customers:tag_add", args=[rich_customer.pk]), {"tag": tag.pk})
        assert r.status_code == 403


class TestExportAndAccessLog:
    def test_export_needs_permission_and_is_recorded(self, world, client_for, rich_customer):
        assert client_for(world.advisor_a).get(reverse("customers:export")).status_code == 403
        r = client_for(world.lead_a).get(reverse("customers:export"))
        assert r.status_code == 200
        body = b"".join(r.streaming_content).decode()
        assert rich_customer.customer_no in body
        rec = m.AccessRecord.objects.get(kind=m.AccessKind.EXPORT)
        assert rec.user == world.lead_a and rec.details["count"] == 1
        assert AuditEvent.objects.filter(verb="customer.export").exists()

    def test_compliance_lists_access_by_user_and_customer(self, world, client_for, rich_customer):
        client_for(world.advisor_a).get(reverse("customers:detail", args=[rich_customer.pk]))
        other = CustomerFactory(owner=world.lead_a)
        client_for(world.lead_a).get(reverse("customers:detail", args=[other.pk]))
        client = client_for(world.compliance)
        html = client.get(reverse("customers:access_log"), {"user": "advisor_a"}).content.decode()
        assert rich_customer.customer_no in html and other.customer_no not in html
        html = client.get(reverse("customers:access_log"), {"customer": other.customer_no}).content.decode()
        assert other.customer_no in html and rich_customer.customer_no not in html

    @pytest.mark.parametrize("n", [2, 12])
    def test_access_log_queries_do_not_grow_with_its_rows(self, world, client_for, django_assert_num_queries, n):
        """Each row names its user with the employee number: read with the rows (it was a
        deferred field, a query per row)."""
        customer = CustomerFactory(owner=world.advisor_a)
        users = [world.advisor_a, world.advisor_b, world.lead_a]
        m.AccessRecord.objects.bulk_create(
            [m.AccessRecord(user=users[i % 3], customer=customer, kind=m.AccessKind.VIEW) for i in range(n)]
        )
        client = client_for(world.compliance)
        client.get(reverse("customers:access_log"))
        with django_assert_num_queries(5):
            html = client.get(reverse("customers:access_log")).content.decode()
        assert html.count(customer.customer_no) >= n
        assert world.advisor_a.staff_profile.employee_no in html


def _fake_tab(calls: list, **kw) -> PortraitTab:
    """A tab as an app above would register it (its template from a string here)."""

    def context(request, customer):
        calls.append(customer.pk)
        return {"fake_value": "<b>from above</b>"}

    template = engines["django"].from_string(
        '<p data-testid="fake-tab">{{ fake_value }} {{ customer.customer_no }}</p>'
    )
    defaults = {"key": "fake", "label": "Fake tab", "template": template, "context": context, "order": 40}
    return PortraitTab(**{**defaults, **kw})


class TestExtensions:
    """Tabs and header facts the apps above register (customers.extensions)."""

    def test_registered_tab_slots_in_by_order_and_renders_its_template(self, world, client_for, rich_customer):
        calls: list = []
        PORTRAIT_TABS.register(_fake_tab(calls, order=40))
        PORTRAIT_TABS.register(_fake_tab(calls, key="last", label="Last tab", order=60))
        client = client_for(world.advisor_a)
        html = client.get(reverse("customers:detail", args=[rich_customer.pk])).content.decode()
        order = [html.index(f'data-tab="{k}"') for k in ("assets", "tags", "interactions", "fake", "products", "last")]
        assert order == sorted(order)
        r = client.get(reverse("customers:tab", args=[rich_customer.pk, "fake"]), HTTP_HX_REQUEST="true")
        body = r.content.decode()
        assert r.status_code == 200 and 'data-testid="fake-tab"' in body and rich_customer.customer_no in body
        assert "&lt;b&gt;from above&lt;/b&gt;" in body  # escaped like every other value
        assert m.AccessRecord.objects.filter(customer=rich_customer, details__tab="fake").count() == 1
        full = client.get(reverse("customers:tab", args=[rich_customer.pk, "fake"])).content.decode()
        assert 'data-testid="portrait-header"' in full and 'data-testid="fake-tab"' in full

    def test_registered_tab_outside_the_rule_is_404_and_never_asked(self, world, client_for, rich_customer):
        calls: list = []
        PORTRAIT_TABS.register(_fake_tab(calls))
        r = client_for(world.advisor_b).get(
            reverse("customers:tab", args=[rich_customer.pk, "fake"]), HTTP_HX_REQUEST="true"
        )
        assert r.status_code == 404 and calls == []
        assert not m.AccessRecord.objects.filter(customer=rich_customer).exists()

    def test_a_registered_tab_cannot_replace_the_portraits_own(self, world, client_for, rich_customer):
        calls: list = []
        PORTRAIT_TABS.register(_fake_tab(calls, key="assets", order=1))
        html = client_for(world.advisor_a).get(reverse("customers:detail", args=[rich_customer.pk])).content.decode()
        assert html.count('data-tab="assets"') == 2 and 'data-testid="aum-chart"' in html  # the nav link and the pane
        assert calls == []

    def test_registered_facts_show_in_the_header(self, world, client_for, rich_customer):
        PORTRAIT_FACTS.register(PortraitFact(key="b", label="Second fact", value=lambda c: None, order=20))
        PORTRAIT_FACTS.register(
            PortraitFact(key="a", label="First fact", value=lambda c: f"<{c.customer_no}>", order=10)
        )
        html = client_for(world.advisor_a).get(reverse("customers:detail", args=[rich_customer.pk])).content.decode()
        assert html.index("First fact") < html.index("Second fact")
        assert f"&lt;{rich_customer.customer_no}&gt;" in html
        assert html.count('data-testid="portrait-fact"') == 2


class TestWriteRules:
    def test_tags_of_a_customer_out_of_scope_are_404(self, world, client_for, rich_customer):
        tag = TagFactory(source=m.TagSource.MANUAL)
        r = client_for(world.advisor_b).post(reverse("customers:tag_add", args=[rich_customer.pk]), {"tag": tag.pk})
        assert r.status_code == 404
        assert not m.CustomerTag.objects.filter(tag=tag).exists()

    def test_compliance_sees_no_tag_controls(self, world, client_for, rich_customer):
        TagFactory(source=m.TagSource.MANUAL)
        tab = reverse("customers:tab", args=[rich_customer.pk, "tags"])
        assert (
            'data-testid="tag-add"'
            not in client_for(world.compliance).get(tab, HTTP_HX_REQUEST="true").content.decode()
        )
        assert 'data-testid="tag-add"' in client_for(world.advisor_a).get(tab, HTTP_HX_REQUEST="true").content.decode()

    def test_failed_reveal_without_htmx_shows_the_error_on_the_portrait(self, world, client_for, rich_customer):
        r = client_for(world.advisor_a).post(
            reverse("customers:reveal", args=[rich_customer.pk]), {"field": "mobile", "reason": "x"}
        )
        assert r.status_code == 400
        html = r.content.decode()
        assert 'data-testid="portrait-header"' in html and "13812345678" not in html
        assert not m.AccessRecord.objects.filter(kind=m.AccessKind.REVEAL).exists()


class TestExportFormats:
    def test_xlsx_export_defuses_formulas(self, world, client_for):
        CustomerFactory(owner=world.lead_a, name="=HYPERLINK(1)")
        r = client_for(world.lead_a).get(reverse("customers:export"), {"fmt": "xlsx"})
        assert r.status_code == 200 and r["Content-Disposition"].endswith('customers.xlsx"')
        rows = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
        assert rows[1][1] == "'=HYPERLINK(1)"
        assert m.AccessRecord.objects.get(kind=m.AccessKind.EXPORT).details["count"] == 1

    def test_csv_export_has_a_bom_and_defuses_formulas(self, world, client_for):
        CustomerFactory(owner=world.lead_a, name="+cmd")
        r = client_for(world.lead_a).get(reverse("customers:export"))
        body = b"".join(r.streaming_content).decode()
        assert body.startswith("\ufeff") and ",'+cmd," in body

    def test_unknown_format_is_refused_before_anything_is_recorded(self, world, client_for):
        r = client_for(world.lead_a).get(reverse("customers:export"), {"fmt": "pdf"})
        assert r.status_code == 400
        assert not m.AccessRecord.objects.filter(kind=m.AccessKind.EXPORT).exists()


# --- refused looks are audited -----------------------------------------------------------------


def test_a_look_at_a_customer_outside_ones_scope_is_audited(world, client_for):
    stranger = CustomerFactory(owner=world.advisor_b)
    mine = CustomerFactory(owner=world.advisor_a)
    client = client_for(world.advisor_a)
    assert client.get(reverse("customers:detail", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("customers:tab", args=[stranger.pk, "tags"])).status_code == 404
    assert client.get(reverse("scoring-customer-score", args=[stranger.pk])).status_code == 404
    refused = AuditEvent.objects.filter(verb="customer.access_refused", target_id=str(stranger.pk))
    assert refused.count() == 3
    assert {e.details["page"] for e in refused} == {"portrait", "api_score"}
    assert all(e.actor == world.advisor_a and e.details["refused"] for e in refused)
    # a number that is no customer, and a visible customer without a score, are no attempts
    assert client.get(reverse("customers:detail", args=[999_999])).status_code == 404
    assert client.get(reverse("scoring-customer-score", args=[mine.pk])).status_code == 404
    assert AuditEvent.objects.filter(verb="customer.access_refused").count() == 3
