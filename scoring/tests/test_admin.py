"""The scoring settings in Django admin: the cold-start rules change only through the
audited service; the cutoffs are read-only there (the model page edits them)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.models import AuditEvent
from scoring.models import DEFAULT_HIGH_CUTOFF, default_rules
from scoring.selectors import settings_get
from scoring.services import settings as setting_services

pytestmark = pytest.mark.django_db


def _post(client, st, rules, **extra):
    url = reverse("admin:scoring_scoringsettings_change", args=[st.pk])
    return client.post(url, {"rules": json.dumps(rules), **extra})


def test_rules_saved_in_admin_go_through_the_audited_service(world, client_for):
    st = settings_get()
    rules = default_rules()
    rules["weights"]["tier_private"] = 1.5
    response = _post(client_for(world.admin), st, rules, high_cutoff="90", mid_cutoff="80")
    assert response.status_code == 302
    st.refresh_from_db()
    assert st.rules["weights"]["tier_private"] == 1.5 and st.updated_by == world.admin
    assert st.high_cutoff == DEFAULT_HIGH_CUTOFF  # read-only here
    event = AuditEvent.objects.get(verb="scoring.rules_update")
    assert event.actor == world.admin and event.details["after"]["weights"]["tier_private"] == 1.5


def test_bad_rules_are_refused_on_the_form(world, client_for):
    st = settings_get()
    response = _post(client_for(world.admin), st, {"intercept": -2, "weights": {"no_such_rule": 1}})
    assert response.status_code == 200 and "no_such_rule" in response.content.decode()
    st.refresh_from_db()
    assert st.rules == default_rules() and not AuditEvent.objects.filter(verb="scoring.rules_update").exists()


def test_rules_update_refuses_other_roles_and_bad_values(world):
    with pytest.raises(PermissionDenied):
        setting_services.rules_update(actor=world.advisor_a, rules=default_rules())
    with pytest.raises(ValidationError):
        setting_services.rules_update(actor=world.admin, rules={"intercept": "x", "weights": {}})
    with pytest.raises(ValidationError):
        setting_services.rules_update(actor=world.admin, rules={"weights": {"tier_wealth": "high"}})
    assert not AuditEvent.objects.filter(verb="scoring.rules_update").exists()
