"""Planning an advisor's capacity: the staff-profile rule and its predicates agree, the
service refuses outsiders and bad values in words and changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import AuditEvent
from core.testing import assert_rule_agrees
from org.access import can_plan_capacity, can_view_staff_profile
from org.models import StaffProfile
from org.services import staff_capacity_set

pytestmark = pytest.mark.django_db

ROLES = ("advisor_a", "advisor_a2", "lead_a", "advisor_b", "manager_x", "compliance", "campaigner", "admin")


def test_the_rule_and_its_predicates_agree_for_every_role(world):
    users = [getattr(world, r) for r in ROLES]
    profiles = list(StaffProfile.objects.all())
    for action, predicate in (("view", can_view_staff_profile), ("plan", can_plan_capacity)):
        assert assert_rule_agrees(model=StaffProfile, action=action, predicate=predicate, users=users, objects=profiles)
    team_a = {world.advisor_a.pk, world.advisor_a2.pk}
    planned = set(StaffProfile.objects.restrict(world.lead_a, "plan").values_list("user_id", flat=True))
    assert planned == team_a  # the team's advisors, not the lead nor team B


def test_the_service_plans_and_audits_and_refuses_outsiders_and_bad_values(world):
    profile = world.advisor_a.staff_profile
    until = timezone.localdate() + dt.timedelta(days=2)
    staff_capacity_set(actor=world.lead_a, profile=profile, daily_call_capacity=40, absent_until=until)
    profile.refresh_from_db()
    assert (profile.daily_call_capacity, profile.absent_until) == (40, until)
    assert AuditEvent.objects.filter(verb="staff.capacity").count() == 1
    for outsider in (world.advisor_a, world.advisor_b, world.compliance, world.campaigner):
        with pytest.raises(PermissionDenied):
            staff_capacity_set(actor=outsider, profile=profile, daily_call_capacity=1, absent_until=None)
    with pytest.raises(ValidationError) as bad:
        staff_capacity_set(
            actor=world.lead_a,
            profile=profile,
            daily_call_capacity=301,
            absent_until=timezone.localdate() - dt.timedelta(days=1),
        )
    assert set(bad.value.message_dict) == {"daily_call_capacity", "absent_until"}
    profile.refresh_from_db()
    assert (profile.daily_call_capacity, profile.absent_until) == (40, until)
