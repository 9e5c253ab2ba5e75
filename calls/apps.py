from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    """The remote advisor's working day: lead queues, the call screen, call logs and their
    outcome, the contact policy and the call measures."""

    name = "calls"
    verbose_name = _("Calls")
