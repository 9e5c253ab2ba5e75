from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReferralsConfig(AppConfig):
    """Referrals of high leads to branches: review, assignment, follow-up, SLAs."""

    name = "referrals"
    verbose_name = _("Branch referrals")

    audit_details = {
        "lead": _("lead"),
        "branch": _("branch"),
        "products": _("products"),
        "rm": _("branch RM"),
        "from_rm": _("from branch RM"),
        "to_rm": _("to branch RM"),
        "accepted": _("accepted"),
        "follow_up": _("follow-up"),
        "reached": _("reached"),
    }

    # The codes a referral's events hold (statuses, reject reasons), in the words of the
    # models' choices (referrals.tests.test_stored_words checks they agree).
    audit_values = {
        "pending": _("Pending review"),
        "accepted": _("Accepted"),
        "rejected": _("Rejected"),
        "contacted": _("Contacted"),
        "meeting": _("Meeting booked"),
        "converted": pgettext_lazy("referral status", "Converted"),
        "returned": _("Returned to advisor"),
        "already_served": _("Already served by the branch"),
        "unreachable": _("Customer not reachable"),
        "not_a_fit": _("Not a fit"),
        "insufficient_info": _("Insufficient information"),
        "other": _("Other"),
    }
    # A lead's "lost" (leads) is 已流失; a referral's is 未成交: the referral's word in its own events.
    audit_values_by_verb = {"referral.": {"lost": pgettext_lazy("referral status", "Lost")}}

    role_permissions = {
        "advisor": {"referral": ["view", "add"]},
        "team_lead": {"referral": ["view"]},
        "branch_manager": {"referral": ["view", "change"]},
        "branch_rm": {"referral": ["view", "change"]},
        "compliance": {"referral": ["view"]},
        "admin": {"referral": ["view", "add", "change"]},
    }

    # Every verb referrals.services records. A status change records "referral.<event
    # verb>" (the ReferralEvent verbs of accept, reject, the follow-ups that move the
    # status, the outcomes and return); the SLA sweep records overdue and escalate.
    audit_verbs = {
        "referral.create": _("Referral made to a branch"),
        "referral.accept": _("Referral accepted and assigned"),
        "referral.bulk_accept": _("Referrals accepted in bulk"),
        "referral.reject": _("Referral rejected"),
        "referral.reassign": _("Referral reassigned"),
        "referral.follow_up": _("Referral follow-up logged"),
        "referral.attempt": _("Referral: customer reached"),
        "referral.meeting": _("Referral: meeting booked"),
        "referral.visit": _("Referral: customer visited"),
        "referral.converted": _("Referral converted"),
        "referral.lost": _("Referral lost"),
        "referral.return": _("Referral returned to the advisor"),
        "referral.overdue": _("Referral overdue"),
        "referral.escalate": _("Overdue referral escalated to the team lead"),
        "referral.export": _("Referrals exported"),
    }

    def ready(self):
        # The customer portrait's "Leads and referrals" tab (customers.extensions).
        from . import portrait  # noqa: F401
