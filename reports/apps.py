from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Wealth reports")

    audit_verbs = {
        "report.generate": _("Wealth report generated"),
        "report.download": _("Wealth report downloaded"),
        "report.deliver": _("Wealth report sent to the customer"),
    }
    audit_details = {
        "year": _("year"),
        "job_id": _("job"),
    }
    # The codes the details hold, in words (the same words as the models' choices).
    audit_values = {
        "zh-hans": _("Chinese"),
        "en": pgettext_lazy("report language", "English"),
        "post": _("Post"),
        "in_person": _("Handed over in person"),
        "app": _("Mobile banking app"),
    }
    job_kinds = {"reports.batch": _("Generating a segment's wealth reports")}

    def ready(self) -> None:
        # The portrait's "Wealth report" tab (customers.extensions.PORTRAIT_TABS) names
        # models: register once the apps are loaded (the one import inside a function
        # docs/architecture.md allows).
        from . import portrait  # noqa: F401
