"""Who may do what in scoring: one predicate per action.

- ``can_manage_scoring``: the model page, the model API, retraining, rescoring everyone,
  the grade cutoffs and activating or rolling back a model version are for team leads
  and administrators. The views, the API's permission class and the services ask it
  (a service called by the system itself, with ``actor=None``, is not refused).
- ``view`` of a score or an outcome: whoever may see its customer
  (``customers.access.can_view_customer``); an imported outcome without a customer,
  whoever manages scoring. Mirrored row
  for row by ``CustomerScore.objects.restrict`` and ``Outcome.objects.restrict``
  (``scoring/tests/test_access.py`` checks they agree for every role).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from customers.access import can_view_customer
from org.roles import Role, role_of

MANAGING_ROLES = frozenset({Role.TEAM_LEAD, Role.ADMIN})


def can_manage_scoring(user) -> bool:
    return role_of(user) in MANAGING_ROLES


def require_manage_scoring(actor) -> None:
    """The services' guard: ``actor=None`` is the system (beat, a management command)."""
    if actor is not None and not can_manage_scoring(actor):
        raise PermissionDenied(_("Only team leads and administrators may change the scoring model."))


def can_view_score(user, score) -> bool:
    return can_view_customer(user, score.customer)


def can_view_outcome(user, outcome) -> bool:
    if outcome.customer_id is None:
        return can_manage_scoring(user)
    return can_view_customer(user, outcome.customer)


# The uplift model chooses whom a campaign contacts: the people who build campaigns
# train it and read its evaluation.
UPLIFT_ROLES = frozenset({Role.CAMPAIGN_MANAGER, Role.ADMIN})


def can_manage_uplift(user) -> bool:
    """The uplift model's page and its training: campaign managers and administrators."""
    return getattr(user, "is_authenticated", False) and role_of(user) in UPLIFT_ROLES


def require_manage_uplift(actor) -> None:
    if actor is not None and not can_manage_uplift(actor):
        raise PermissionDenied(_("Only campaign managers and administrators may train the uplift model."))
