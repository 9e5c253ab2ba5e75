"""The customer list and the access log write their rows and the list's filter form from
prepared text (issue 15): the same options, cells and words as the form's own fields and
the table's columns, in both languages, with a query count that no row or choice grows."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from customers import models as m
from customers import selectors
from customers.filters import CustomerFilter
from customers.tests.factories import CustomerFactory, TagFactory

SELECT = re.compile(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]*)"( selected)?>([^<]*)</option>')
ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


def _selects(html: str) -> dict[str, list[tuple[str, str, bool]]]:
    return {
        name: [(v, label, bool(sel)) for v, sel, label in OPTION.findall(body)]
        for name, body in SELECT.findall(html)
        if name != "language"
    }


def _rows(html: str, table: str) -> list[list[str]]:
    body = html.split(f'data-testid="{table}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[c.strip() for c in CELL.findall(r)] for r in ROW.findall(body)]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"tier": "wealth", "tags_all": ["TAG1", "TAG2"], "tag": "TAG1", "owner": "OWNER", "grade": "A"},
        {"tier": "gold", "aum_min": "abc", "without_tag": "999999", "aum_change_percent": "5"},
    ],
)
def test_filter_form_options_are_the_fields_own(world, client_for, query):
    """Every select shows its field's choices, labels and selected values as Django's own
    widgets would, while each distinct queryset (three tag selects) is read once."""
    tags = [TagFactory(), TagFactory(), TagFactory()]
    swap = {"TAG1": str(tags[0].pk), "TAG2": str(tags[2].pk), "OWNER": str(world.advisor_a.pk)}
    query = {k: ([swap.get(x, x) for x in v] if isinstance(v, list) else swap.get(v, v)) for k, v in query.items()}
    client = client_for(world.lead_a)
    html = client.get(reverse("customers:list"), query).content.decode()
    shown = _selects(html)
    request = RequestFactory().get(reverse("customers:list"), query)
    request.user = world.lead_a
    with translation.override("zh-hans"):
        f = CustomerFilter(request.GET, queryset=selectors.customers_for_list(user=world.lead_a), request=request)
        f.form.is_valid()
        expected = {}
        for bound in f.form:
            if bound.widget_type not in ("select", "selectmultiple"):
                continue
            value = bound.value()
            chosen = [str(v) for v in value] if isinstance(value, list) else [str(value)]
            expected[bound.name] = [(str(v), str(label), str(v) in chosen) for v, label in bound.field.choices]
    # labels are escaped on the page (none of these holds a character to escape)
    assert shown == expected
    assert any(selected for *_, selected in shown["tier"]) == (query.get("tier") == "wealth")
    errors = re.findall(r'<div class="text-danger small">([^<]+)</div>', html)
    assert bool(errors) == ("aum_min" in query)


def test_list_queries_do_not_grow_with_rows_or_choices(world, client_for, django_assert_num_queries):
    """Session, user, profile, two permission reads, the capped count, the page's rows, and
    one read of each distinct choice list (one for the three tag selects, none per row or
    per choice); the table alone for htmx."""
    CustomerFactory(owner=world.advisor_a)
    TagFactory()
    client = client_for(world.advisor_a)
    client.get(reverse("customers:list"))
    with django_assert_num_queries(11):
        client.get(reverse("customers:list"))
    for _ in range(12):
        CustomerFactory(owner=world.advisor_a)
        TagFactory()
    with django_assert_num_queries(11):
        html = client.get(reverse("customers:list")).content.decode()
    assert html.count('data-testid="customer-link"') == 13
    with django_assert_num_queries(6):
        client.get(reverse("customers:list") + "?q=1234", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table")


def test_customer_rows_keep_every_column_and_word(world, client_for):
    contacted = timezone.make_aware(dt.datetime(2026, 3, 4, 23, 30), dt.UTC)  # 5 March in Shanghai
    kept = CustomerFactory(
        owner=world.advisor_a,
        name="张三丰",
        aum=Decimal("1234567.80"),
        risk_level=4,
        lifecycle_stage=m.LifecycleStage.GROWING,
        home_branch=world.branch_x,
        last_contact_at=contacted,
    )
    bare = CustomerFactory(
        owner=None, name="李", aum=Decimal("0"), risk_level=None, risk_assessed_at=None, home_branch=None
    )
    client = client_for(world.admin)
    html = client.get(reverse("customers:list"), {"sort": "-aum"}).content.decode()
    rows = {r[0].split(">", 1)[1].split("<", 1)[0]: r for r in _rows(html, "customer-table")}
    full, empty = rows[kept.customer_no], rows[bare.customer_no]
    assert f'href="{reverse("customers:detail", args=[kept.pk])}"' in full[0]
    with translation.override("zh-hans"):
        tier, stage = str(m.Tier(kept.tier).label), str(m.LifecycleStage.GROWING.label)
    assert full[1:] == ["张**", tier, "¥1,234,567.80", "C4", stage, "王顾问", "浦东支行", "2026-03-05"]
    assert empty[1] == "李" and empty[3] == "¥0.00" and empty[6:] == ["—", "—", "—"]
    assert empty[4].startswith("— ") and "text-bg-danger" in empty[4]
    english = client_for(world.admin)
    english.cookies["django_language"] = "en"
    rows = {
        r[0].split(">", 1)[1].split("<", 1)[0]: r
        for r in _rows(english.get(reverse("customers:list")).content.decode(), "customer-table")
    }
    assert rows[kept.customer_no][5] == "Growing" and rows[bare.customer_no][4].endswith(">expired</span>")


def test_access_log_rows_keep_every_column_and_word(world, client_for, django_assert_num_queries):
    customer = CustomerFactory(owner=world.advisor_a, name="赵六")
    m.AccessRecord.objects.create(
        user=world.advisor_a, customer=customer, kind=m.AccessKind.VIEW, details={"page": m.ViewPlace.PORTRAIT}
    )
    m.AccessRecord.objects.create(
        user=world.lead_a,
        customer=customer,
        kind=m.AccessKind.REVEAL,
        fields="mobile",
        reason="客户来电核实",
        ip_address="10.0.0.7",
    )
    m.AccessRecord.objects.create(user=world.admin, customer=None, kind=m.AccessKind.EXPORT, fields="list")
    client = client_for(world.compliance)
    client.get(reverse("customers:access_log"))
    with django_assert_num_queries(5):
        html = client.get(reverse("customers:access_log")).content.decode()
    rows = _rows(html, "access-table")
    assert len(rows) == 3 and all(len(r) == 7 for r in rows)
    export, reveal, view = rows  # newest first
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r[0]) for r in rows)
    profile = world.advisor_a.staff_profile
    assert view[1] == f"{profile.display_name} <span class='text-secondary small'>{profile.employee_no}</span>"
    with translation.override("zh-hans"):
        words = {k: str(v.label) for k, v in [("view", m.AccessKind.VIEW), ("reveal", m.AccessKind.REVEAL)]}
        words["export"] = str(m.AccessKind.EXPORT.label)
        words["portrait"] = str(m.ViewPlace.PORTRAIT.label)
    assert view[2:] == [f"{customer.customer_no} 赵*", f"{words['view']} · {words['portrait']}", "—", "—", "—"]
    assert reveal[3] == words["reveal"] and reveal[5:] == ["客户来电核实", "10.0.0.7"]
    assert export[2] == "—" and export[3] == words["export"]
    assert html.count("<tr data-request-id=") == 3
