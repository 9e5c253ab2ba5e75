"""The core models' rules agree with their predicates for every role."""

from __future__ import annotations

import pytest

from core.access import can_view_job, can_view_notification
from core.models import Job, Notification
from core.services import job_create, notification_send
from core.testing import assert_rule_agrees

pytestmark = pytest.mark.django_db

ROLES = ("advisor_a", "advisor_b", "lead_a", "manager_x", "rm_x", "compliance", "admin")


def test_jobs_their_starter_and_those_who_see_all(world):
    users = [getattr(world, name) for name in ROLES]
    jobs = [job_create(actor=u, kind="test") for u in (world.advisor_a, world.lead_a, None)]
    allowed = assert_rule_agrees(model=Job, action="view", predicate=can_view_job, users=users, objects=jobs)
    assert allowed == 2 + 2 * 3  # advisor_a and lead_a their own; compliance and admin all three


def test_notifications_only_their_recipient(world):
    users = [getattr(world, name) for name in ROLES]
    notes = [notification_send(recipient=u, title="t") for u in (world.advisor_a, world.manager_x)]
    allowed = assert_rule_agrees(
        model=Notification, action="view", predicate=can_view_notification, users=users, objects=notes
    )
    assert allowed == 2
    assert not Notification.objects.restrict(None, "view").exists()
    with pytest.raises(ValueError):
        Notification.objects.restrict(world.admin, "delete")
