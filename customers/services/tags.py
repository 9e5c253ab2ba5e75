"""Writes of customer tags that advisors add and remove by hand."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record

from ..access import can_work_customer
from ..models import (
    Customer,
    CustomerTag,
    Tag,
    TagSource,
)


def _check_can_work(actor, customer: Customer) -> None:
    if not can_work_customer(actor, customer):
        raise PermissionDenied(_("You may not change this customer's tags."))


@transaction.atomic
def customer_tag_add(*, actor, customer: Customer, tag: Tag) -> CustomerTag:
    """Add a manual tag (advisors' own observations). Adding it again changes nothing."""
    _check_can_work(actor, customer)
    assignment, created = CustomerTag.objects.get_or_create(
        customer=customer, tag=tag, defaults={"source": TagSource.MANUAL, "assigned_by": actor}
    )
    if created:
        audit_record(actor=actor, verb="customer.tag_add", target=customer, details={"tag": tag.code, "tag_id": tag.pk})
    return assignment


@transaction.atomic
def customer_tag_remove(*, actor, customer: Customer, tag: Tag) -> bool:
    """Remove a manual tag; rule and model tags belong to their pipelines and stay."""
    _check_can_work(actor, customer)
    assignment = CustomerTag.objects.filter(customer=customer, tag=tag).first()
    if assignment is None:
        return False
    if assignment.source != TagSource.MANUAL:
        raise ValidationError(_("Only manual tags can be removed here; this one comes from a rule or a model."))
    assignment.delete()
    audit_record(actor=actor, verb="customer.tag_remove", target=customer, details={"tag": tag.code, "tag_id": tag.pk})
    return True
