"""Writes of the customer record by hand (the Django admin). Files and the ingest API
write customers through ``customers.ingest``; both keep the derived columns with
``customers.models.derived_columns``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record

from ..models import Customer, derived_columns

# What a person may set by hand. The tier follows the AUM and the last four digits their
# numbers (derived_columns); the risk level and its date follow the latest risk assessment,
# the last contact the latest interaction: their own histories keep them.
EDITABLE_FIELDS = (
    "customer_no",
    "name",
    "gender",
    "birth_date",
    "mobile",
    "id_number",
    "city",
    "occupation",
    "education",
    "marital_status",
    "aum",
    "home_branch",
    "owner",
    "lifecycle_stage",
    "attributes",
)


@transaction.atomic
def customer_save(*, actor, customer: Customer, data: dict) -> Customer:
    """Create ``customer`` (no pk yet) or change it with ``data`` (field -> value of the
    fields edited, already validated by the form); the derived columns follow. Audited
    with the names of the fields changed (not their values: they are personal data)."""
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError(_("These fields cannot be set by hand: %(fields)s.") % {"fields": ", ".join(unknown)})
    created = customer.pk is None
    for field, value in data.items():
        setattr(customer, field, value)
    for field, value in derived_columns(mobile=customer.mobile, id_number=customer.id_number, aum=customer.aum).items():
        setattr(customer, field, value)
    customer.save()
    audit_record(
        actor=actor,
        verb="customer.create" if created else "customer.update",
        target=customer,
        details={"fields": sorted(data)},
    )
    return customer
