from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    """Referrals of high leads to branches: review, assignment, follow-up, SLAs."""

    name = "referrals"
    verbose_name = _("Branch referrals")

    role_permissions = {
        "advisor": {"referral": ["view", "add"]},
        "team_lead": {"referral": ["view"]},
        "branch_manager": {"referral": ["view", "change"]},
        "branch_rm": {"referral": ["view", "change"]},
        "compliance": {"referral": ["view"]},
        "admin": {"referral": ["view", "add", "change"]},
    }
