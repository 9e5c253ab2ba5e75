"""The audit log: writing events (from services, in their transaction) and the registry
of what each verb means.

Every app declares the verbs it records, with the label people read, as
``audit_verbs = {"lead.transition": _("Lead status changed"), ...}`` on its AppConfig;
the audit log shows those labels, its filter offers them, and a test checks that every
verb the code records is declared. Core names no app: it reads the installed apps'
declarations.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.apps import apps
from django.db import models

from .middleware import client_ip_var, request_id_var
from .models import AuditEvent


@cache
def audit_verbs() -> dict[str, Any]:
    """Every declared verb → its (lazily translated) label, from all installed apps."""
    verbs: dict[str, Any] = {}
    for config in apps.get_app_configs():
        verbs.update(getattr(config, "audit_verbs", {}))
    return verbs


def verb_label(verb: str) -> str:
    """What ``verb`` means, in the user's language (the code itself when undeclared)."""
    label = audit_verbs().get(verb)
    return str(label) if label is not None else verb


def audit_record(
    *,
    actor,
    verb: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: Any = "",
    details: dict | None = None,
) -> AuditEvent:
    """Record that ``actor`` did ``verb`` to ``target`` (or target_type/target_id)."""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb,
        target_type=target_type,
        target_id=str(target_id),
        details=details or {},
        request_id=request_id_var.get(),
        ip_address=client_ip_var.get(),
    )
