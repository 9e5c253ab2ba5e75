"""Row and role rules of campaigns and segments: each predicate agrees with ``restrict``."""

from __future__ import annotations

import pytest

from campaigns import access
from campaigns.models import Campaign, CampaignStatus, Segment
from campaigns.tests.factories import make_campaign
from core.testing import assert_rule_agrees

pytestmark = pytest.mark.django_db


def _users(world):
    return [
        world.advisor_a,
        world.advisor_b,
        world.lead_a,
        world.manager_x,
        world.rm_x,
        world.compliance,
        world.campaigner,
        world.campaigner2,
        world.admin,
    ]


@pytest.fixture
def campaigns(world):
    rows = [make_campaign(world, status=status) for status in CampaignStatus.values]
    rows.append(make_campaign(world, status=CampaignStatus.PENDING_APPROVAL, author=world.campaigner2))
    rows.append(make_campaign(world, status=CampaignStatus.PENDING_APPROVAL, author=world.lead_a))
    return rows


@pytest.mark.parametrize(
    ("action", "predicate"),
    [
        ("view", access.can_view_campaign),
        ("change", access.can_change_campaign),
        ("approve", access.can_approve_campaign),
    ],
)
def test_campaign_rules_agree(world, campaigns, action, predicate):
    allowed = assert_rule_agrees(
        model=Campaign, action=action, predicate=predicate, users=_users(world), objects=campaigns
    )
    assert 0 < allowed < len(campaigns) * len(_users(world))


def test_campaign_rule_answers(world, campaigns):
    draft = campaigns[0]
    running = next(c for c in campaigns if c.status == CampaignStatus.RUNNING)
    mine = next(
        c for c in campaigns if c.status == CampaignStatus.PENDING_APPROVAL and c.created_by == world.campaigner
    )
    theirs = next(c for c in campaigns if c.created_by == world.campaigner2)
    assert access.can_view_campaign(world.advisor_a, running) and not access.can_view_campaign(world.advisor_a, draft)
    assert not access.can_view_campaign(world.manager_x, running)
    assert access.can_change_campaign(world.campaigner, draft) and not access.can_change_campaign(world.lead_a, draft)
    # four eyes: nobody approves their own launch; team leads may approve, advisors not
    assert not access.can_approve_campaign(world.campaigner, mine)
    assert access.can_approve_campaign(world.campaigner, theirs)
    assert access.can_approve_campaign(world.lead_a, mine)
    assert not access.can_approve_campaign(world.advisor_a, mine)
    assert not access.can_approve_campaign(world.compliance, mine)


@pytest.mark.parametrize(
    ("action", "predicate"), [("view", access.can_view_segment), ("change", access.can_change_segment)]
)
def test_segment_rules_agree(world, action, predicate):
    segments = [Segment.objects.create(name="高净值客群", created_by=world.campaigner)]
    allowed = assert_rule_agrees(
        model=Segment, action=action, predicate=predicate, users=_users(world), objects=segments
    )
    assert 0 < allowed < len(_users(world))


def test_pages_by_role(world):
    assert access.can_view_campaigns(world.advisor_a) and not access.can_view_campaigns(world.manager_x)
    assert access.can_change_campaigns(world.campaigner) and not access.can_change_campaigns(world.lead_a)
    assert access.can_view_segments(world.compliance) and not access.can_view_segments(world.lead_a)


def test_who_edits_a_journey(world, campaigns):
    by_status = {c.status: c for c in campaigns if c.created_by == world.campaigner}
    editable = {CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED}
    for manager in (world.campaigner, world.campaigner2, world.admin):
        assert {s for s, c in by_status.items() if access.can_edit_journey(manager, c)} == editable
    for reader in (world.advisor_a, world.lead_a, world.compliance, world.manager_x):
        assert not any(access.can_edit_journey(reader, c) for c in campaigns)
