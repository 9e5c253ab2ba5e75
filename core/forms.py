"""Forms helpers every app's views use: a service's ValidationError shown on the form."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def form_add_service_errors(form, exc: ValidationError) -> None:
    """Put what a service refused on ``form``: each field's messages on that field when
    the form has it, everything else at the top of the form. The page then renders
    ``core/_form_errors.html`` for the top and each field's own errors below it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
