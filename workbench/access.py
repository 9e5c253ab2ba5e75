"""Who may open the shell's pages. The rows on them come from the core models' own rules
(``AuditEvent.objects.restrict`` for holders of ``core.view_auditevent``, ``Job.objects.restrict``
for the user's own jobs or, with ``core.view_all_jobs``, every job); org grants those
permissions to exactly the roles named here, which workbench/tests/test_access.py pins.
The menu asks these predicates too, without a permission query on every page."""

from __future__ import annotations

from org.roles import Role, role_of


def can_view_audit_log(user) -> bool:
    return role_of(user) in (Role.COMPLIANCE, Role.ADMIN)


def can_view_jobs_page(user) -> bool:
    """The background-jobs page: the roles that start long work (imports, rescoring,
    rescans). Everyone still sees their own job's progress where they started it."""
    return role_of(user) in (Role.TEAM_LEAD, Role.COMPLIANCE, Role.ADMIN)
