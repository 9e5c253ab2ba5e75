"""The yearly targets: administrators change them (page and admin), through one service
that checks them and audits the change."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cadence.models import CadenceTargets
from cadence.selectors import targets_current
from cadence.services import targets_update
from core.models import AuditEvent

pytestmark = pytest.mark.django_db

VALUES = {"themed": 10, "reviews": 3, "face_to_face": 1, "reports": 1, "plan_ahead_days": 5}


def test_defaults_are_12_4_2_1_for_wealth_and_private():
    targets = targets_current()
    assert (targets.themed, targets.reviews, targets.face_to_face, targets.reports) == (12, 4, 2, 1)
    assert targets.tiers == ["wealth", "private"]


def test_an_administrator_changes_them_and_it_is_audited(world):
    targets_update(actor=world.admin, tiers=["private"], **VALUES)
    targets = targets_current()
    assert (targets.themed, targets.tiers, targets.updated_by) == (10, ["private"], world.admin)
    event = AuditEvent.objects.get(verb="cadence.targets_update")
    assert event.details["before"]["themed"] == 12 and event.details["after"]["themed"] == 10


@pytest.mark.parametrize(
    ("tiers", "changes", "field"),
    [
        ([], {}, "tiers"),
        (["gold"], {}, "tiers"),
        (["wealth"], {"reviews": 11}, "reviews"),  # more reviews than themed interactions
        (["wealth"], {"face_to_face": 4}, "face_to_face"),
        (["wealth"], {"themed": 400}, "themed"),
        (["wealth"], {"plan_ahead_days": -1}, "plan_ahead_days"),
    ],
)
def test_impossible_targets_are_refused_and_nothing_changes(world, tiers, changes, field):
    with pytest.raises(ValidationError) as exc:
        targets_update(actor=world.admin, tiers=tiers, **{**VALUES, **changes})
    assert field in exc.value.message_dict
    assert not CadenceTargets.objects.exists() and not AuditEvent.objects.filter(verb="cadence.targets_update")


def test_only_administrators(world):
    with pytest.raises(PermissionDenied):
        targets_update(actor=world.lead_a, tiers=["wealth"], **VALUES)


def test_the_settings_page_saves_and_refuses_in_words(world, client_for):
    client = client_for(world.admin)
    url = reverse("cadence:targets")
    response = client.post(url, {"tiers": ["wealth", "base"], **VALUES})
    assert response.status_code == 302
    assert targets_current().tiers == ["wealth", "base"]
    bad = client.post(url, {"tiers": ["wealth"], **VALUES, "reviews": 20})
    assert bad.status_code == 200 and 'data-testid="form-errors"' in bad.content.decode()
    assert targets_current().reviews == 3
    junk = client.post(url, {"tiers": ["x"], "themed": "abc", "reviews": "9" * 30, "face_to_face": "-1"})
    assert junk.status_code == 200 and targets_current().themed == 10


def test_tiers_decide_who_is_in_the_cadence(world, book, client_for):
    client = client_for(world.admin)
    assert client.get(reverse("cadence:overview")).context["total"].customers == 5
    targets_update(actor=world.admin, tiers=["base"], **VALUES)
    assert client.get(reverse("cadence:overview")).context["total"].customers == 1


def test_the_admin_edits_through_the_service(world, client_for):
    client = client_for(world.admin)
    response = client.post(reverse("admin:cadence_cadencetargets_add"), {"tiers": ["wealth"], **VALUES, "reviews": 20})
    assert response.status_code == 200 and not CadenceTargets.objects.exists()
    response = client.post(reverse("admin:cadence_cadencetargets_add"), {"tiers": ["wealth"], **VALUES})
    assert response.status_code == 302
    assert targets_current().themed == 10
    assert AuditEvent.objects.filter(verb="cadence.targets_update").count() == 1
