"""Writing audit events. Call from services, inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from .middleware import client_ip_var, request_id_var
from .models import AuditEvent


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
