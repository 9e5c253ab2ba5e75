from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The floor every app stands on: audit log, background jobs, notifications, helpers."""

    name = "core"
    verbose_name = _("Core")

    audit_verbs = {"job.create": _("Background job started")}

    def ready(self):
        from . import lookups, middleware

        # Long ``__in`` lists go to PostgreSQL as one array (core/lookups.py).
        lookups.register()
        # The session's idle clock starts at log-in (core.middleware.SessionIdleMiddleware);
        # the receiver only stamps the session that login() is about to save.
        user_logged_in.connect(middleware.session_stamp_login, dispatch_uid="core.session_stamp_login")
