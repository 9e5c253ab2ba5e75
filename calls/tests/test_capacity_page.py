"""The team lead's capacity page: each advisor's day with a constant query count, a plan
saved in words, bad input refused without a change, and only team leads and
administrators, on their own advisors."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.tests.factories import LeadFactory, PlannedCallFactory
from org.models import StaffProfile

pytestmark = pytest.mark.django_db


def test_the_team_lead_sees_the_day_of_each_advisor_and_saves_a_plan(world, client_for, django_assert_num_queries):
    lead = LeadFactory(team=world.team_a, owner=world.advisor_a)
    PlannedCallFactory(lead=lead, advisor=world.advisor_a, kind="campaign", due_at=timezone.now())
    client = client_for(world.lead_a)
    url = reverse("calls:capacity")
    client.get(url)
    with django_assert_num_queries(5) as first:
        html = client.get(url).content.decode()
    assert html.count('data-testid="capacity-row"') == 2 and "王顾问" in html
    for _ in range(3):
        PlannedCallFactory(lead=lead, advisor=world.advisor_a2, kind="callback", due_at=timezone.now())
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url)
    prefix = f"p{world.advisor_a.staff_profile.pk}"
    response = client.post(
        reverse("calls:capacity_set", args=[world.advisor_a.staff_profile.pk]),
        {f"{prefix}-daily_call_capacity": "abc", f"{prefix}-absent_until": ""},
        follow=True,
    )
    assert "请输入整数" in response.content.decode() or "整数" in response.content.decode()
    assert StaffProfile.objects.get(user=world.advisor_a).daily_call_capacity is None
    response = client.post(
        reverse("calls:capacity_set", args=[world.advisor_a.staff_profile.pk]),
        {f"{prefix}-daily_call_capacity": "45", f"{prefix}-absent_until": ""},
        follow=True,
    )
    assert "已为王顾问规划外呼容量。" in response.content.decode()
    assert StaffProfile.objects.get(user=world.advisor_a).daily_call_capacity == 45


def test_only_team_leads_and_administrators_open_the_page_and_only_their_advisors(world, client_for):
    for user in (world.advisor_a, world.compliance, world.campaigner, world.manager_x):
        assert client_for(user).get(reverse("calls:capacity")).status_code == 403
    other_team = world.advisor_b.staff_profile.pk
    prefix = f"p{other_team}"
    response = client_for(world.lead_a).post(
        reverse("calls:capacity_set", args=[other_team]), {f"{prefix}-daily_call_capacity": "1"}
    )
    assert response.status_code == 404
    assert StaffProfile.objects.get(pk=other_team).daily_call_capacity is None
    assert client_for(world.admin).get(reverse("calls:capacity")).status_code == 200
