"""The audit log: writing events (from services, in their transaction) and the registry
of what each verb, object and detail means.

Every app declares the verbs it records, with the label people read, as
``audit_verbs = {"lead.transition": _("Lead status changed"), ...}`` on its AppConfig;
the audit log shows those labels, its filter offers them, and a test checks that every
verb the code records is declared. In the same way ``audit_details`` names the keys of
the details an app records (``{"follow_up": _("follow-up")}``) and ``audit_targets``
names targets that are not models (``{"compliance.report": _("compliance report")}``);
a model target is named by its ``verbose_name``. ``audit_values`` names the codes the
details hold as values; where two apps' statuses share a code with different words (a
lead "lost" is 已流失, a referral "lost" 未成交), the app names its word for its own verbs in
``audit_values_by_verb = {"referral.": {"lost": ...}}``. Core names no app: it reads the
installed apps' declarations.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache, wraps
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import get_language, get_language_info, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _

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


# Words many apps' details use; an app's ``audit_details`` adds its own.
COMMON_DETAILS = {
    "from": gettext_lazy("from"),
    "to": gettext_lazy("to"),
    "reason": gettext_lazy("reason"),
    "comment": gettext_lazy("comment"),
    "note": gettext_lazy("note"),
    "count": gettext_lazy("count"),
    "rows": gettext_lazy("rows"),
    "filters": gettext_lazy("filters"),
    "format": gettext_lazy("format"),
    "params": gettext_lazy("parameters"),
    "kind": gettext_lazy("kind"),
    "job": gettext_lazy("background job"),
    "customer": gettext_lazy("customer"),
    "customer_id": gettext_lazy("customer"),
    "channel": gettext_lazy("channel"),
    "source": gettext_lazy("source"),
    "fields": gettext_lazy("fields"),
    "field": gettext_lazy("field"),
    "ids": gettext_lazy("records"),
    "skipped": gettext_lazy("skipped"),
    "before": gettext_lazy("before"),
    "after": gettext_lazy("after"),
    "date_from": gettext_lazy("from date"),
    "date_to": gettext_lazy("to date"),
    "external_id": gettext_lazy("external id"),
    "previous": pgettext_lazy("audit detail", "previous"),
    "score": gettext_lazy("score"),
    "at": gettext_lazy("time"),
    "days": gettext_lazy("days"),
    "tab": gettext_lazy("tab"),
    "high": gettext_lazy("high"),
    "mid": gettext_lazy("mid"),
    "batch_id": gettext_lazy("import"),
    "dry_run": gettext_lazy("check only"),
    "language": gettext_lazy("language"),
}


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")

# Detail keys whose value is the id of a record (besides every ``*_id``).
ID_KEYS = {"customer", "lead", "branch", "rm", "from_rm", "to_rm", "to", "job", "follow_up", "script", "based_on"}


@cache
def audit_detail_labels() -> dict[str, Any]:
    labels: dict[str, Any] = dict(COMMON_DETAILS)
    for config in apps.get_app_configs():
        labels.update(getattr(config, "audit_details", {}))
    return labels


@cache
def audit_value_labels() -> dict[str, Any]:
    """Codes an event's details may hold as values (a status, a step kind, a channel) →
    their words, from the apps' ``audit_values``; the details keep the codes."""
    labels: dict[str, Any] = {}
    for config in apps.get_app_configs():
        labels.update(getattr(config, "audit_values", {}))
    return labels


@cache
def _audit_values_by_verb() -> dict[str, dict[str, Any]]:
    scoped: dict[str, dict[str, Any]] = {}
    for config in apps.get_app_configs():
        for prefix, labels in getattr(config, "audit_values_by_verb", {}).items():
            scoped.setdefault(prefix, {}).update(labels)
    return scoped


def audit_value_labels_for(verb: str) -> dict[str, Any]:
    """The value words of one verb's details: the shared ones, then those an app names
    for its own verbs (``audit_values_by_verb``)."""
    return _value_labels_with(tuple(p for p in _audit_values_by_verb() if verb.startswith(p)))


@cache
def _value_labels_with(prefixes: tuple[str, ...]) -> dict[str, Any]:
    labels = dict(audit_value_labels())
    for prefix in prefixes:
        labels.update(_audit_values_by_verb()[prefix])
    return labels


@cache
def audit_target_labels() -> dict[str, Any]:
    """Every target type → its label: the models' verbose names and the declared others."""
    labels: dict[str, Any] = {model._meta.label_lower: model._meta.verbose_name for model in apps.get_models()}
    for config in apps.get_app_configs():
        labels.update(getattr(config, "audit_targets", {}))
    return labels


def target_label(target_type: str) -> str:
    label = audit_target_labels().get(target_type)
    return str(label) if label is not None else target_type


def _punctuation() -> tuple[str, str, str, str, str]:
    """(between key and value, between pairs, between list items, open, close): full-width
    in Chinese text, ASCII in English."""
    if (get_language() or "").startswith("zh"):
        return "：", "；", "、", "（", "）"
    return ": ", "; ", ", ", "(", ")"


def _value_text(value: Any, verb: str = "") -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return details_text(value, verb=verb) if value else "—"
    if isinstance(value, list | tuple):
        return _punctuation()[2].join(_value_text(v, verb) for v in value) if value else "—"
    if isinstance(value, str):
        if value in audit_verbs():
            return verb_label(value)
        if value in (job_labels := job_kind_labels()):
            return str(job_labels[value])
        if value in (value_labels := audit_value_labels_for(verb)):
            return str(value_labels[value])
        if value in ("csv", "xlsx"):
            return value.upper()
        if value in dict(settings.LANGUAGES):
            return str(get_language_info(value)["name_translated"])
        if not ISO_DATE.match(value):
            return value
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if "T" not in value:
            return moment.strftime("%Y-%m-%d")
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)  # the reader's clock (Asia/Shanghai)
        return moment.strftime("%Y-%m-%d %H:%M")
    return str(value)


def details_text(details: dict, *, verb: str = "") -> str:
    """An event's details as text people read: ``label：value；label：value``.

    Keys are named by the apps' ``audit_details``; values are shown as written (Chinese
    as Chinese, never as ``\\u`` escapes), lists joined, nested details in parentheses;
    codes in the words of the event's ``verb`` where an app names them for it.
    """
    labels = audit_detail_labels()
    colon, semicolon, _comma, opening, closing = _punctuation()
    parts = []
    for key, value in details.items():
        # A record's id reads as a number of that record ("customer #8"), not a count.
        is_id = isinstance(value, int) and not isinstance(value, bool) and (key in ID_KEYS or key.endswith("_id"))
        text = f"#{value}" if is_id else _value_text(value, verb)
        if isinstance(value, dict) and value:
            text = f"{opening}{text}{closing}"
        parts.append(f"{labels.get(key, key)}{colon}{text}")
    return semicolon.join(parts)


@cache
def job_kind_labels() -> dict[str, Any]:
    """Every background job kind → what it does, from the apps' ``job_kinds``."""
    labels: dict[str, Any] = {}
    for config in apps.get_app_configs():
        labels.update(getattr(config, "job_kinds", {}))
    return labels


def job_kind_label(kind: str) -> str:
    label = job_kind_labels().get(kind)
    return str(label) if label is not None else kind


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
