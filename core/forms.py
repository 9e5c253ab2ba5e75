"""Forms helpers every app's views use: a service's ValidationError shown on the form, and
the edge's bounded readers of ids and numbers (a value no database column could hold is
refused here, never handed to a query)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

# The largest id a database row can have (a signed 64-bit integer on every backend).
ID_MAX = 2**63 - 1
# The dates a person means when they type one into the workbench: a year such as 9999 is a
# slip (and the day after it does not exist, so any range arithmetic on it fails).
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2099, 12, 31)


def form_add_service_errors(form, exc: ValidationError) -> None:
    """Put what a service refused on ``form``: each field's messages on that field when
    the form has it, everything else at the top of the form. The page then renders
    ``core/_form_errors.html`` for the top and each field's own errors below it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def form_applied(form, call) -> bool:
    """Give a valid ``form`` to the service ``call`` (a callable of no arguments that reads
    ``form.cleaned_data``); what the service refuses goes on the form in words, a refused
    permission at its top. True when it was applied."""
    if not form.is_valid():
        return False
    try:
        call()
    except ValidationError as exc:
        form_add_service_errors(form, exc)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
    else:
        return True
    return False


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


class BoundedDateField(forms.DateField):
    """A date between DATE_MIN and DATE_MAX, refused with a message saying so."""

    def validate(self, value):
        super().validate(value)
        if value and not DATE_MIN <= value <= DATE_MAX:
            raise ValidationError(
                _("Choose a date between %(first)s and %(last)s."),
                code="date_range",
                params={"first": DATE_MIN.isoformat(), "last": DATE_MAX.isoformat()},
            )
