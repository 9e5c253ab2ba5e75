from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The floor every app stands on: audit log, background jobs, notifications, helpers."""

    name = "core"
    verbose_name = _("Core")

    audit_verbs = {"job.create": _("Background job started")}
