"""Who may do what with a customer: one predicate per action.

The same predicate guards the service (``customers.services``), decides what a page
offers (views and templates), and is mirrored row for row by
``<Model>.objects.restrict(user, action)`` (``customers/tests/test_access.py`` checks
that they agree for every role).

Customers (``Customer.objects.restrict``):

- ``view``: administrators, compliance and campaign managers (HQ, who pick groups of
  customers from the whole base) everyone; an advisor the customers they own
  and those with an open lead of their team; a team lead the customers of the team's
  advisors and the team's open leads; branch staff the customers referred to their
  branch. Open leads and referrals are read as ``CustomerAccess`` grants only.
- ``work`` (add and remove manual tags): ``view`` for every role but compliance, which
  reads everything and writes nothing customer-side.

Revealing a full number and exporting personal data are Django permissions
(``customers.reveal_customer_pii``, ``customers.export_customers``, granted to roles by
this app's migration); their predicates are here too so that views, templates and
services ask the same question.

PIPL access records (``AccessRecord.objects.restrict``): ``view`` compliance and
administrators. Import batches (``ImportBatch.objects.restrict``): ``view`` an
administrator all, anyone else the files they uploaded; whoever sees a file may map,
check and import it (the import services ask ``can_view_import_batch``).
"""

from __future__ import annotations

from org.roles import ALL_SEEING_ROLES, BRANCH_ROLES, Role, role_of, team_of

from .models import WORK_ROLES, AccessReason, CustomerAccess


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _granted(customer, **grant) -> bool:
    return CustomerAccess.objects.filter(customer_id=customer.pk, **grant).exists()


# --- customers -----------------------------------------------------------------------------


def can_view_customer(user, customer) -> bool:
    """Cheap for the common cases (a customer read with ``customer_get_for_user`` has its
    owner's profile joined): only a customer seen through a grant costs one query."""
    if not _authenticated(user):
        return False
    role = role_of(user)
    if role in ALL_SEEING_ROLES or role == Role.CAMPAIGN_MANAGER:
        return True
    profile = getattr(user, "staff_profile", None)
    if profile is None:
        return False
    if role == Role.ADVISOR:
        if customer.owner_id == user.pk:
            return True
        return profile.team_id is not None and _granted(
            customer, team_id=profile.team_id, reason=AccessReason.OPEN_LEAD
        )
    if role == Role.TEAM_LEAD:
        if profile.team_id is None:
            return False
        if team_of(customer.owner) == profile.team_id:
            return True
        return _granted(customer, team_id=profile.team_id, reason=AccessReason.OPEN_LEAD)
    if role in BRANCH_ROLES:
        return profile.branch_id is not None and _granted(
            customer, branch_id=profile.branch_id, reason=AccessReason.REFERRAL
        )
    return False


def can_work_customer(user, customer) -> bool:
    return role_of(user) in WORK_ROLES and can_view_customer(user, customer)


def can_reveal_customer_pii(user, customer) -> bool:
    """Show the full mobile or ID number (with a typed reason, recorded)."""
    return _authenticated(user) and user.has_perm("customers.reveal_customer_pii") and can_view_customer(user, customer)


def can_export_customers(user) -> bool:
    """Download the customer list with personal data (recorded before the first byte)."""
    return _authenticated(user) and user.has_perm("customers.export_customers")


# --- PIPL access records and import batches ------------------------------------------------


def can_view_access_record(user, record) -> bool:
    return _authenticated(user) and role_of(user) in ALL_SEEING_ROLES


def can_view_import_batch(user, batch) -> bool:
    if not _authenticated(user):
        return False
    return role_of(user) == Role.ADMIN or batch.created_by_id == user.pk


def can_view_access_log(user) -> bool:
    """The PIPL access log: compliance officers and administrators."""
    return role_of(user) in (Role.COMPLIANCE, Role.ADMIN)


def can_import_data(user) -> bool:
    """Uploading and importing the bank's files: team leads and administrators."""
    return role_of(user) in (Role.TEAM_LEAD, Role.ADMIN)


def has_api_scope(user, scope: str) -> bool:
    """An integration client's call of an endpoint needing ``scope`` (``customers:write``,
    ``channels:write``, …): an active client holding the scope, or an administrator."""
    client = getattr(user, "integration_client", None)
    if client is not None:
        return client.active and scope in (client.scopes or [])
    return role_of(user) == Role.ADMIN
