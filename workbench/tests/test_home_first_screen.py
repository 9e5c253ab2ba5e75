"""A branch's first screen of zeros says what will come and where to find it."""

from __future__ import annotations

import pytest

from referrals.tests.factories import ReferralFactory, high_lead

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("who", "words"), [("rm_x", "暂无分配给您的转介"), ("manager_x", "本网点暂无转介")])
def test_a_branch_home_with_nothing_yet_says_what_will_come(world, client_for, who, words):
    html = client_for(getattr(world, who)).get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="home-nothing-yet"' in html and words in html


def test_a_branch_home_with_work_does_not(world, client_for):
    lead = high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
    ReferralFactory(lead=lead, branch=world.branch_x, from_advisor=world.advisor_a)
    html = client_for(world.manager_x).get("/").content.decode()
    assert 'data-testid="home-nothing-yet"' not in html
