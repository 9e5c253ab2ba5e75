"""The shell pages' predicates agree with the core rules behind them, for every role."""

from __future__ import annotations

import pytest

from core.models import AuditEvent, Job
from core.services import job_create
from core.testing import assert_rule_agrees
from workbench.access import can_view_audit_log, can_view_jobs_page

pytestmark = pytest.mark.django_db

ROLES = ("advisor_a", "lead_a", "manager_x", "rm_x", "compliance", "admin")


def test_audit_log_page_and_rows_agree(world, client_for):
    event = AuditEvent.objects.create(verb="lead.transition", target_type="leads.lead", target_id="1")
    users = [getattr(world, name) for name in ROLES]
    allowed = assert_rule_agrees(
        model=AuditEvent, action="view", predicate=lambda u, _e: can_view_audit_log(u), users=users, objects=[event]
    )
    assert allowed == 2  # compliance and the administrator
    for user in users:
        status = client_for(user).get("/shell/audit/").status_code
        assert status == (200 if can_view_audit_log(user) else 403)


def test_every_job_for_whom_the_jobs_page_is_all_jobs(world):
    mine = job_create(actor=world.lead_a, kind="test")
    theirs = job_create(actor=world.advisor_a, kind="test")
    for name in ROLES:
        user = getattr(world, name)
        seen = set(Job.objects.restrict(user, "view").values_list("pk", flat=True))
        sees_all = user.has_perm("core.view_all_jobs")
        assert seen == ({mine.pk, theirs.pk} if sees_all else {j.pk for j in (mine, theirs) if j.created_by == user})
        assert sees_all == (can_view_jobs_page(user) and name != "lead_a")  # a team lead: the page, own jobs
