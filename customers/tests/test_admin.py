"""The Django admin: customers change through ``customer_save`` (derived columns follow,
audited); their histories and the evidence are shown only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse

from core.models import AuditEvent
from customers import models as m

from .factories import CustomerFactory, RiskAssessmentFactory

INLINES = ("risk_assessments", "holdings", "contact_preferences")


def _form(customer, **changes) -> dict:
    """The change form as the admin page posts it."""
    data = {
        "customer_no": customer.customer_no,
        "name": customer.name,
        "gender": customer.gender,
        "birth_date": customer.birth_date.isoformat() if customer.birth_date else "",
        "mobile": customer.mobile,
        "id_number": customer.id_number,
        "city": customer.city,
        "occupation": customer.occupation,
        "education": customer.education,
        "marital_status": customer.marital_status,
        "aum": str(customer.aum),
        "home_branch": customer.home_branch_id or "",
        "owner": customer.owner_id or "",
        "lifecycle_stage": customer.lifecycle_stage,
        "attributes": "{}",
        "initial-attributes": "{}",  # a field with a callable default carries its initial value
    }
    for prefix in INLINES:
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "0"}
    return data | changes


def test_editing_mobile_and_aum_keeps_derived_columns_and_audits(world, client_for):
    c = CustomerFactory(mobile="13800001111", id_number="310101198001010011", aum=Decimal("40000"))
    assert c.tier == m.Tier.LONG_TAIL
    url = reverse("admin:customers_customer_change", args=[c.pk])
    r = client_for(world.admin).post(url, _form(c, mobile="13912345678", id_number="31010119800101123x", aum="700000"))
    assert r.status_code == 302, r.content.decode()[:2000]
    c.refresh_from_db()
    assert (c.mobile_last4, c.id_last4, c.tier) == ("5678", "123X", m.Tier.WEALTH)
    event = AuditEvent.objects.get(verb="customer.update", target_id=str(c.pk))
    assert event.actor == world.admin
    assert event.details["fields"] == ["aum", "id_number", "mobile"]  # names only: values are personal data


def test_adding_a_customer_sets_derived_columns(world, client_for):
    template = CustomerFactory.build(customer_no="C-ADMIN-1", mobile="13700009999", aum=Decimal("6000000"))
    data = _form(template, home_branch=world.branch_x.pk)
    r = client_for(world.admin).post(reverse("admin:customers_customer_add"), data)
    assert r.status_code == 302, r.content.decode()[:2000]
    c = m.Customer.objects.get(customer_no="C-ADMIN-1")
    assert c.mobile_last4 == "9999" and c.tier == m.Tier.PRIVATE
    assert AuditEvent.objects.filter(verb="customer.create", target_id=str(c.pk)).exists()


def test_derived_and_history_columns_are_not_editable(world, client_for):
    c = CustomerFactory(risk_level=3)
    RiskAssessmentFactory(customer=c, level=3)
    client = client_for(world.admin)
    r = client.post(reverse("admin:customers_customer_change", args=[c.pk]), _form(c, tier="private", risk_level="5"))
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.tier == m.tier_for_aum(c.aum) == m.Tier.BASE and c.risk_level == 3
    html = client.get(reverse("admin:customers_customer_change", args=[c.pk])).content.decode()
    assert 'name="risk_assessments-0-level"' not in html  # the assessment inline is shown, not editable


@pytest.mark.parametrize(
    "model",
    [
        m.RiskAssessment,
        m.Holding,
        m.AssetSnapshot,
        m.ContactPreference,
        m.CustomerTag,
        m.Interaction,
        m.AccessRecord,
        m.ImportBatch,
        m.CustomerAccess,
    ],
)
def test_histories_and_evidence_are_read_only(world, rf, model):
    request = rf.get("/")
    request.user = world.admin
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


@pytest.mark.parametrize("model", [m.Product, m.Tag, m.ImportMapping, m.IntegrationClient])
def test_reference_data_stays_editable(world, rf, model):
    request = rf.get("/")
    request.user = world.admin
    assert admin.site._registry[model].has_change_permission(request)


def test_customers_are_not_deleted_in_the_admin(world, rf):
    request = rf.get("/")
    request.user = world.admin
    assert not admin.site._registry[m.Customer].has_delete_permission(request)
