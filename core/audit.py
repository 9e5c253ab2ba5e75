"""The audit log: writing events (from services, in their transaction) and the registry
of what each verb means.

Every app declares the verbs it records, with the label people read, as
``audit_verbs = {"lead.transition": _("Lead status changed"), ...}`` on its AppConfig;
the audit log shows those labels, its filter offers them, and a test checks that every
verb the code records is declared. Core names no app: it reads the installed apps'
declarations.
"""

from __future__ import annotations

from functools import cache, wraps
from typing import Any

from django.apps import apps
from django.db import models, transaction

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


# --- refused attempts -------------------------------------------------------------------
#
# Some refusals matter to an auditor as much as the actions do: a self-approval, a
# marketing call the contact policy blocked, a look at a customer outside one's scope. A
# refused service raises, so its transaction rolls back and any audit row written inside
# it with it. The refusal is therefore attached to the exception (``refusal``) and written
# by ``records_refusals`` once the service's transaction is over.


def refusal(exc: Exception, *, actor, verb: str, target: models.Model | None = None, details: dict | None = None):
    """Mark ``exc`` (a ValidationError or PermissionDenied about to be raised) as a refusal
    to record as ``verb``: ``raise refusal(ValidationError(...), actor=..., verb=...)``."""
    exc.refusal = {"actor": actor, "verb": verb, "target": target, "details": details or {}}
    return exc


def audit_refusal(*, actor, verb: str, target: models.Model | None = None, details: dict | None = None):
    """Record a refused attempt in a transaction of its own (not the refused one)."""
    with transaction.atomic():
        return audit_record(actor=actor, verb=verb, target=target, details={"refused": True, **(details or {})})


def records_refusals(service):
    """Decorator, outside ``@transaction.atomic``: a refusal the service raised (see
    ``refusal``) is audited after its transaction rolled back, then raised on. Write it
    above the atomic decorator, so the rollback has happened when this runs."""

    @wraps(service)
    def wrapper(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except Exception as exc:
            info = getattr(exc, "refusal", None)
            if info is not None and not getattr(exc, "refusal_recorded", False):
                audit_refusal(**info)
                exc.refusal_recorded = True
            raise

    return wrapper
