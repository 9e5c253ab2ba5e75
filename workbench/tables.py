"""Tables of the shell pages: the audit log, background jobs, notifications."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.audit import verb_label
from core.models import AuditEvent, Job, Notification
from org.roles import staff_name


class AuditEventTable(tables.Table):
    occurred_at = tables.DateTimeColumn(format="Y-m-d H:i:s", verbose_name=_("Time"))
    actor = tables.Column(verbose_name=_("Actor"), empty_values=(), order_by=("actor__username",))
    details = tables.JSONColumn(verbose_name=_("Details"), orderable=False)

    class Meta:
        model = AuditEvent
        fields = ("occurred_at", "actor", "verb", "target_type", "target_id", "details", "ip_address", "request_id")
        attrs = {"class": "table table-sm", "data-testid": "audit-table"}

    def render_verb(self, value):
        return verb_label(value)

    def render_actor(self, record):
        return _("System") if record.actor is None else staff_name(record.actor)


class JobTable(tables.Table):
    progress = tables.TemplateColumn(
        template_code='{% include "core/_job_progress.html" with job=record %}',
        verbose_name=_("Progress"),
        orderable=False,
    )

    class Meta:
        model = Job
        fields = ("id", "kind", "status", "progress", "message", "created_by", "created_at", "finished_at")
        attrs = {"class": "table table-sm"}


class NotificationTable(tables.Table):
    title = tables.Column(verbose_name=_("Notification"))
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Time"))

    class Meta:
        model = Notification
        fields = ("title", "body", "created_at", "read_at")
        attrs = {"class": "table table-sm"}
        row_attrs = {"class": lambda record: "" if record.read_at else "fw-semibold"}

    def render_title(self, record, value):
        if record.url:
            return format_html('<a href="{}">{}</a>', record.url, value)
        return value
