"""The one access rule per model and action.

Each row-scoped model's QuerySet subclasses :class:`RestrictedQuerySet` and answers
``restrict(user, action)`` with exactly the rows ``user`` may ``action`` (NetBox's
pattern): ``"view"`` always, plus the model's own actions (``"work"``, ``"decide"``,
…) listed in ``ACTIONS``. Next to it, each app's ``access.py`` has one ``can_<verb>``
predicate per action for a single object; the service guard, the view and the template
all ask that predicate, so a page never offers what the service refuses, and a test
per app checks that the predicate and ``restrict`` agree row for row for every role
(``core.testing.assert_rule_agrees``). Fast SQL paths for big lists live inside
``restrict`` too, each tested equal to the plain rule.

Reads of one object go through :func:`get_for_user`, which answers 404 outside the
user's scope: an object a user may not see is not revealed to exist.
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404


class RestrictedQuerySet(models.QuerySet):
    ACTIONS: tuple[str, ...] = ("view",)

    def restrict(self, user, action: str = "view"):
        """The rows ``user`` may ``action``; nobody anonymous or without a role gets any."""
        if action not in self.ACTIONS:
            raise ValueError(f"{self.model._meta.label} has no access action {action!r}; one of {self.ACTIONS}")
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        return self._restrict(user, action)

    def _restrict(self, user, action: str):
        raise NotImplementedError


class FencedExists(models.Exists):
    """``EXISTS (… OFFSET 0)``, for a rule's fast path on PostgreSQL.

    Under an ``OR``, PostgreSQL turns a plain ``EXISTS`` into a hash of every row the
    sub-select could match (every open lead of a team: 100,000 rows at a million
    customers) before it returns the first row of a page. A sub-select with an OFFSET is
    neither pulled up nor hashed: it stays a per-row probe of an index, so a first page
    or a capped count stops early. PostgreSQL only (SQLite wants a LIMIT before an OFFSET);
    each rule using it is tested equal to its plain form.
    """

    template = "EXISTS(%(subquery)s OFFSET 0)"


def get_for_user(queryset: RestrictedQuerySet, *, user, pk, action: str = "view"):
    """The object ``pk`` of ``queryset`` if ``user`` may ``action`` it, else Http404."""
    try:
        return queryset.restrict(user, action).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def require(predicate):
    """View decorator: 403 unless ``predicate(request.user)`` — the same page-level
    ``can_<verb>`` predicate the navigation and the templates ask."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not predicate(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def can_view_job(user, job) -> bool:
    """A job's progress: whoever started it, and holders of ``core.view_all_jobs``."""
    return bool(getattr(user, "is_authenticated", False)) and (
        job.created_by_id == user.pk or user.has_perm("core.view_all_jobs")
    )


def can_view_notification(user, notification) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and notification.recipient_id == user.pk
