"""Reads of the core: the audit log, background jobs and notifications, each from its rule."""

from __future__ import annotations

from django.db.models import QuerySet

from .access import get_for_user
from .models import AuditEvent, Job, Notification


def audit_events_list(*, user) -> QuerySet[AuditEvent]:
    """The audit log with its actors; the page's AuditEventFilter narrows it."""
    return AuditEvent.objects.restrict(user, "view").select_related("actor", "actor__staff_profile")


def jobs_for(*, user) -> QuerySet[Job]:
    return Job.objects.restrict(user, "view").select_related("created_by", "created_by__staff_profile")


def job_get_for_user(*, user, pk) -> Job:
    return get_for_user(Job.objects.all(), user=user, pk=pk)


def notifications_unread_count(*, user) -> int:
    return Notification.objects.restrict(user, "view").filter(read_at__isnull=True).count()


def notifications_for(*, user) -> QuerySet[Notification]:
    return Notification.objects.restrict(user, "view")
