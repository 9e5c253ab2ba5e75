from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    """The branch side of referrals: review, assignment, follow-up, SLAs (leads/referrals)."""

    name = "leads.referrals"
    label = "referrals"
    verbose_name = _("Branch referrals")
