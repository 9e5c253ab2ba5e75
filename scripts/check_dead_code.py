"""Fail on dead code: functions, methods, classes and properties nothing uses.

vulture finds them; Django, DRF, Celery and django-tables2 call many things by name
(``render_<column>``, ``get_queryset``, ``ready``, admin and serializer classes, tasks,
template filters), so those conventions are ignored below, and the few names used only
by migrations, tests or settings are listed in ``WHITELIST`` with the reason. Unused
variables and attributes are not checked: model fields and Meta options would drown
them.
"""

from __future__ import annotations

import pathlib
import runpy
import sys

from vulture import Vulture

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The project's apps, read from their one list without importing the package.
APPS = runpy.run_path(str(ROOT / "core" / "project.py"))["PROJECT_APPS"]
KINDS = {"function", "method", "class", "property", "import"}
CONVENTIONS = [
    "render_*",
    "has_*permission",
    "get_permissions",
    "get_queryset",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "clean_*",
    "filter_*",
    "validate_*",
    "to_representation",
    "ready",
    "handle",
    "add_arguments",
    "on_failure",
    "save_model",
    "get_readonly_fields",
    "label_from_instance",
    "_post_clean",
    "*Config",
    "*Admin",
    "*Inline",
    "*Serializer",
    "*Filter",
    "*Table",
    "*Form",
    "Meta",
    "Command",
    "*Middleware",
    "shell",
]
DECORATORS = [
    "@shared_task",
    "@register.filter",
    "@register.simple_tag",
    "@admin.register",
    "@api_view",
    "@extend_schema",
    "@receiver",
    "@cached_property",
    "@property",
]
# Used, but not from application code that vulture reads.
WHITELIST = {
    "as_postgresql": "Django calls a lookup's as_<vendor> by the connection's vendor (core/lookups.py)",
    "footer": "fpdf2 calls FPDF.footer on every page (reports/pdf.py)",
    "campaign_results": "the live figures, compared with the stored ones by tests and bench",
    "grant_role_permissions": "data migrations and the test world",
    "reasons_reader": "the data migrations that give stored reasons their English (scoring, referrals)",
    "dispositions_install": "calls' data migration and tests after a flush",
    "lexicon_load_defaults": "compliance's data migration and tests after a flush",
    "concept_groups_load_defaults": "compliance's data migration and tests after a flush",
    "concept_groups_update_shipped": "compliance's data migration 0011",
    "lexicon_rewrite_shipped": "compliance's data migrations 0011 and 0014",
    "concept_groups_add_round_terms": "compliance's data migrations 0014, 0015 and 0016",
    "evaluate": "the generalisation gates (compliance tests) and the compliance_evaluate command",
    "default_specs": "the scanner's tests and benchmark run on the default lexicon",
    "assert_rule_agrees": "every app's access tests",
    "plain_view_rule": "the reference the fast customer rule is tested against",
    "spreadsheet_row": "export tests",
    "customer_access_open_lead": "the lead factory and access tests keep one grant",
    "working_days_between": "the calendar's API, tested; SLA dashboards measure with it",
    "asset_change_rescore": "scoring's entry for balance feeds that move AUM by 10 % or more",
    "campaign_attach_script": "the campaigns issue builds its pages on it; tested",
    # One predicate per action: these actions have no single-object page yet, the
    # predicate is the object-level form of the rule that test_access checks.
    "can_view_call_log": "",
    "can_report_flag": "",
    "can_report_version": "",
    "can_view_access_record": "",
    "can_view_lead_record": "",
    "can_view_planned_call": "",
    "can_view_score": "",
    "can_view_outcome": "",
    "can_view_job": "",
    "can_view_notification": "",
    "can_view_campaign": "",
    "can_view_segment": "",
    "can_view_staff_profile": "",
    "can_view_message": "",
    "signature_valid": "the reference check of the webhook signature for the bank's gateway team; tests verify with it",
    "rules_in_project": "the root conftest's check that every row rule was compared with its predicate",
    "add_error_responses": "named in SPECTACULAR_SETTINGS (POSTPROCESSING_HOOKS)",
    "ApiPagination": "named in REST_FRAMEWORK (DEFAULT_PAGINATION_CLASS)",
}


def main() -> int:
    v = Vulture(ignore_names=CONVENTIONS + list(WHITELIST), ignore_decorators=DECORATORS)
    v.scavenge([str(ROOT / app) for app in APPS], exclude=["*/migrations/*", "*/tests/*"])
    dead = [item for item in v.get_unused_code(min_confidence=60) if item.typ in KINDS]
    for item in dead:
        print(item.get_report())
    return 1 if dead else 0


if __name__ == "__main__":
    sys.exit(main())
