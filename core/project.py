"""The project's own apps, bottom layer first: the one list that settings, the checks in
`scripts/` and the project-wide tests read. The import-linter contract in pyproject.toml
states the same order top first; `core/tests/test_project_apps.py` keeps the two equal.
No Django import here: the scripts read this module without settings."""

PROJECT_APPS = (
    "core",
    "org",
    "customers",
    "compliance",
    "leads",
    "scoring",
    "referrals",
    "calls",
    "campaigns",
    "reports",
    "cadence",
    "dashboards",
    "workbench",
)
