"""Reads of the core: the audit log, background jobs and notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditEvent, Job, Notification


def audit_events_list(*, user) -> QuerySet[AuditEvent]:
    """The audit log with its actors; the page's AuditEventFilter narrows it."""
    return AuditEvent.objects.select_related("actor", "actor__staff_profile")


def jobs_visible_to(*, user) -> QuerySet[Job]:
    qs = Job.objects.select_related("created_by")
    if user.has_perm("core.view_all_jobs"):
        return qs
    return qs.filter(created_by=user)


def notifications_unread_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


