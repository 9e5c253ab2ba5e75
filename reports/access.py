"""Who may do what with wealth reports: one predicate per action, mirrored row for row by
``WealthReport.objects.restrict(user, action)``.

- ``can_view_reports``: the reports page (every role that sees customers).
- ``can_generate_report(user, customer)``: generate (or regenerate, before it is sent) a
  customer's report: the roles of ``GENERATING_ROLES`` on a customer they may view;
  compliance reads reports and writes none.
- ``can_view_report(user, report)``: download it: whoever may view the customer.
- ``can_deliver_report(user, report)``: mark it sent: ``can_generate_report``.
- ``can_run_report_batch(user)``: generate a campaign segment's reports as a background
  job: campaign managers (who own segments) and administrators.
"""

from __future__ import annotations

from customers.access import can_view_customer
from org.roles import ALL_SEEING_ROLES, Role, role_of

from .models import GENERATING_ROLES

BATCH_ROLES = frozenset({Role.CAMPAIGN_MANAGER, Role.ADMIN})


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def can_view_reports(user) -> bool:
    return _authenticated(user) and (role_of(user) in GENERATING_ROLES or role_of(user) in ALL_SEEING_ROLES)


def can_generate_report(user, customer) -> bool:
    return _authenticated(user) and role_of(user) in GENERATING_ROLES and can_view_customer(user, customer)


def can_view_report(user, report) -> bool:
    return _authenticated(user) and can_view_customer(user, report.customer)


def can_deliver_report(user, report) -> bool:
    return can_generate_report(user, report.customer)


def can_run_report_batch(user) -> bool:
    return _authenticated(user) and role_of(user) in BATCH_ROLES
