"""Reports leave the building as files: each export is recorded first."""

from __future__ import annotations

from django.db import transaction

from core.audit import audit_record


@transaction.atomic
def report_export_record(*, actor, fmt: str, params: dict, rows: int) -> None:
    """Record who took which figures, before the file is built."""
    audit_record(
        actor=actor,
        verb="compliance.report_export",
        target_type="compliance.report",
        target_id=fmt,
        details={"format": fmt, "params": params, "rows": rows},
    )
