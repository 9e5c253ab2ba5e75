"""Forms helpers every app's views use: a service's ValidationError shown on the form, and
the edge's bounded readers of ids and numbers (a value no database column could hold is
refused here, never handed to a query)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

# The largest id a database row can have (a signed 64-bit integer on every backend).
ID_MAX = 2**63 - 1


def form_add_service_errors(form, exc: ValidationError) -> None:
    """Put what a service refused on ``form``: each field's messages on that field when
    the form has it, everything else at the top of the form. The page then renders
    ``core/_form_errors.html`` for the top and each field's own errors below it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def id_or_none(value) -> int | None:
    """``value`` as a row id (ASCII digits, 1 to ID_MAX), or None for anything else:
    unicode digits ("²"), signs, numbers no row can have."""
    text = str(value or "")
    if not (text.isascii() and text.isdigit()):
        return None
    n = int(text)
    return n if 1 <= n <= ID_MAX else None


def ids_of(values) -> list[int]:
    """The valid row ids among ``values`` (a query string's or a form's list), in order."""
    return [n for n in (id_or_none(v) for v in values) if n is not None]


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """A multiple choice of rows that refuses a value that is not a row id with the
    field's own message, before it reaches a query (``pk__in`` with a number beyond a
    bigint is a database error, not an empty result)."""

    def _check_values(self, value):
        for pk in value:
            if id_or_none(pk) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": str(pk)[:20]}
                )
        return super()._check_values(value)
