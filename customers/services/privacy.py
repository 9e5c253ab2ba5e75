"""PIPL: personal-data access records, audited reveal of full numbers, audited exports."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record, audit_refusal
from core.middleware import client_ip_var, request_id_var

from ..access import can_export_customers, can_reveal_customer_pii, can_view_customer
from ..models import (
    AccessKind,
    AccessRecord,
    Customer,
    ViewPlace,
)


def _request_meta() -> dict:
    return {"ip_address": client_ip_var.get(), "request_id": request_id_var.get() or ""}


def access_record(
    *,
    user,
    customer: Customer | None,
    kind: str = AccessKind.VIEW,
    fields: str = "",
    reason: str = "",
    details: dict | None = None,
    user_agent: str = "",
) -> AccessRecord:
    """Write a PIPL access record (who, which customer, when, from where)."""
    return AccessRecord.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        customer=customer,
        kind=kind,
        fields=fields,
        reason=reason[:300],
        details=details or {},
        user_agent=user_agent[:200],
        **_request_meta(),
    )


def customer_view_record(
    *, actor, customer: Customer | int, page: str, details: dict | None = None, user_agent: str = ""
) -> AccessRecord:
    """PIPL: ``actor`` was shown ``customer``'s personal data on ``page`` (a ``ViewPlace``).

    The one mechanism for every page and API answer about one customer: the portrait and
    each of its tabs, the call screen and its product check, a referral (page and API), a
    compliance flag, the score API, the admin. Called once the user is known to see the
    customer; ``workbench/tests/test_pipl_walk.py`` walks every URL of the project and
    fails when one that shows a customer writes no record. One row, no transaction of its
    own (the page's query count stays put)."""
    if page not in ViewPlace.values:
        raise ValueError(f"unknown place {page!r}; one of {ViewPlace.values}")
    customer_id = getattr(customer, "pk", customer)
    return AccessRecord.objects.create(
        user=actor if getattr(actor, "is_authenticated", False) else None,
        customer_id=customer_id,
        kind=AccessKind.VIEW,
        details={"page": page, **(details or {})},
        user_agent=user_agent[:200],
        **_request_meta(),
    )


def customer_access_refused(*, actor, customer_id, page: str) -> None:
    """A page answered 404 for customer ``customer_id``: when the customer exists and is
    outside the user's scope, an audit event for the auditor (a mistyped number, or a
    customer the user sees but who has no such data, is not an attempt). The user is told
    nothing either way."""
    if not str(customer_id).isdigit():
        return
    customer = Customer.objects.filter(pk=customer_id).only("pk", "owner_id").first()
    if customer is not None and not can_view_customer(actor, customer):
        audit_refusal(actor=actor, verb="customer.access_refused", target=customer, details={"page": page})


REVEAL_FIELDS = {"mobile": "mobile", "id_number": "id_number"}


MIN_REASON_LENGTH = 4


@transaction.atomic
def customer_reveal_pii(*, actor, customer: Customer, field: str, reason: str, user_agent: str = "") -> str:
    """The full mobile number or ID number, for a user with the permission and a reason."""
    if field not in REVEAL_FIELDS:
        raise ValidationError({"field": _("Unknown field.")})
    if not can_reveal_customer_pii(actor, customer):
        raise PermissionDenied(_("You are not allowed to reveal personal data."))
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            {"reason": _("Type the reason for revealing (at least %(n)s characters).") % {"n": MIN_REASON_LENGTH}}
        )
    access_record(
        user=actor, customer=customer, kind=AccessKind.REVEAL, fields=field, reason=reason, user_agent=user_agent
    )
    audit_record(actor=actor, verb="customer.reveal_pii", target=customer, details={"field": field, "reason": reason})
    return getattr(customer, REVEAL_FIELDS[field])


@transaction.atomic
def customers_export_record(*, actor, count: int, filters: dict, user_agent: str = "") -> AccessRecord:
    """Check the export permission and record the export (before any byte is sent)."""
    if not can_export_customers(actor):
        raise PermissionDenied(_("You are not allowed to export customer data."))
    audit_record(
        actor=actor,
        verb="customer.export",
        target_type="customers.customer",
        target_id="*",
        details={"count": count, "filters": filters},
    )
    return access_record(
        user=actor,
        customer=None,
        kind=AccessKind.EXPORT,
        fields="list",
        details={"count": count, "filters": filters},
        user_agent=user_agent,
    )
