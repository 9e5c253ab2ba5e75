import os

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkbenchConfig(AppConfig):
    name = "workbench"
    verbose_name = _("Workbench")

    # seed_demo's details: what it wrote, table by table.
    audit_details = {
        "customers": _("customers"),
        "seed": _("seed"),
        "stats": _("rows written"),
        "snapshots": _("asset snapshots"),
        "fund_flows": _("fund flows"),
        "holdings": _("holdings"),
        "risk_assessments": _("risk assessments"),
        "tags": _("tags"),
        "interactions": _("interactions"),
        "contact_preferences": _("contact preferences"),
        "leads": _("leads"),
        "outcomes": _("call outcomes"),
        "positives": _("conversions"),
        "referrals": _("referrals"),
        "calls": _("calls logged"),
        "planned_calls": _("planned calls"),
        "flags": _("surveillance flags"),
        "campaigns": _("campaigns"),
    }
    # The project itself (settings, URLs, the Celery app, home page, demo composition):
    # it owns no tables.
    audit_verbs = {"demo.seed": _("Demo data seeded")}

    def ready(self) -> None:
        # Celery's filesystem broker needs its folders before the first message.
        from django.conf import settings

        opts = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        for key in ("data_folder_in", "processed_folder", "control_folder"):
            if key in opts:
                os.makedirs(opts[key], exist_ok=True)
