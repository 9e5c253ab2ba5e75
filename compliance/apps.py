from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ComplianceConfig(AppConfig):
    """Scripts and their approval, the lexicon and scanner, surveillance, QA and reports."""

    name = "compliance"
    verbose_name = _("Compliance")

    audit_details = {
        "version_id": _("script version"),
        "findings": _("findings"),
        "retired": _("versions retired"),
        "acknowledged": _("findings acknowledged"),
        "based_on": _("based on version"),
        "outcome": pgettext_lazy("review", "outcome"),
        "new_flags": _("new flags"),
        "snapshot": _("rule"),
        "changes": _("changes"),
        "week": _("week"),
        "sampled": _("sampled"),
        "pattern": _("phrase or pattern"),
        "category": _("category"),
        "severity": _("severity"),
        "language": _("language"),
        "active": _("active"),
        "description": _("description"),
        "share_percent": _("share sampled (%)"),
        "minimum_per_advisor": _("minimum per advisor"),
    }
    audit_targets = {"compliance.report": _("compliance report")}
    job_kinds = {"compliance.rescan": _("Rescan of communications")}

    audit_verbs = {
        "script.create": _("Script proposed"),
        "script.version_update": _("Script draft edited"),
        "script.submit": _("Script submitted for review"),
        "script.approve": _("Script approved"),
        "script.approve_refused": _("Self-approval of a script refused"),
        "script.reject": _("Script rejected"),
        "script.revise": _("Script revision started"),
        "script.retire": _("Script retired"),
        "lexicon.create": _("Lexicon rule created"),
        "lexicon.update": _("Lexicon rule changed"),
        "compliance.flag": _("Communication flagged"),
        "compliance.rescan": _("Rescan started"),
        "flag.claim": _("Flag claimed"),
        "flag.release": _("Flag released"),
        "flag.escalate": _("Flag escalated"),
        "flag.close": _("Flag closed"),
        "flag.bulk_close": _("Flags closed in bulk as false positives"),
        "flag.add_to_corpus": _("Reviewed flag added to the labelled corpus"),
        "lexicon.group_update": _("Concept group changed"),
        "compliance.qa_config": _("QA sampling settings changed"),
        "compliance.qa_sample": _("Weekly QA sample drawn"),
        "compliance.report_export": _("Compliance report exported"),
    }
