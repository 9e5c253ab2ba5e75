"""Tables of the shell pages: the audit log, background jobs, notifications."""

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.audit import details_text, job_kind_label, target_label, verb_label
from core.models import AuditEvent, Job, Notification
from org.roles import staff_name


class AuditEventTable(tables.Table):
    """Narrow columns: the details wrap in their cell instead of widening the table; the
    request id (for matching server logs) is on the row, not in a column."""

    occurred_at = tables.DateTimeColumn(format="Y-m-d H:i:s", verbose_name=_("Time"))
    actor = tables.Column(verbose_name=_("Who"), empty_values=(), order_by=("actor__staff_profile__display_name",))
    verb = tables.Column(verbose_name=_("Action"))
    target_type = tables.Column(verbose_name=_("Object"), order_by=("target_type", "target_id"))
    details = tables.Column(verbose_name=_("Details"), orderable=False, attrs={"td": {"class": "wb-wrap small"}})
    ip_address = tables.Column(verbose_name=_("IP address"))

    class Meta:
        model = AuditEvent
        fields = ("occurred_at", "actor", "verb", "target_type", "details", "ip_address")
        attrs = {"class": "table table-sm", "data-testid": "audit-table"}
        row_attrs = {"data-request-id": lambda record: record.request_id}
        empty_text = _("No events match these filters. Clear a filter or widen the dates.")
        template_name = "workbench/_audit_table.html"

    @property
    def event_rows(self) -> list[dict]:
        """The page's events as text, for workbench/_audit_table.html: one template and no
        per-cell rendering calls (the same words as the audit filters of ``formatting``)."""
        system = gettext("System")
        rows = []
        for row in self.paginated_rows:
            e = row.record
            target = capfirst(target_label(e.target_type)) if e.target_type else "—"
            if e.target_id.isdigit():
                target = f"{target} #{e.target_id}"
            rows.append(
                {
                    "request_id": e.request_id,
                    "time": timezone.localtime(e.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
                    "who": system if e.actor_id is None else staff_name(e.actor),
                    "verb": verb_label(e.verb) if e.verb else "—",
                    "target": target,
                    "details": details_text(e.details, verb=e.verb) if e.details else "—",
                    "ip": e.ip_address or "—",
                }
            )
        return rows


class JobTable(tables.Table):
    kind = tables.Column(verbose_name=_("Job"))
    progress = tables.Column(verbose_name=_("Progress"), orderable=False, empty_values=())
    created_by = tables.Column(verbose_name=_("Started by"), empty_values=())
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Started"))
    finished_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Finished"))

    class Meta:
        model = Job
        fields = ("id", "kind", "status", "progress", "message", "created_by", "created_at", "finished_at")
        attrs = {"class": "table table-sm"}
        empty_text = _("No background jobs yet. Imports, rescoring and rescans you start appear here.")
        # Rows written out in the template (as the audit log): the columns above give the
        # headers and the sorting; django-tables2's per-cell rendering and a template
        # column compiled for every page were most of the jobs page's time.
        template_name = "workbench/_job_table.html"

    @property
    def job_rows(self) -> list[dict]:
        """The page's jobs as text beside the job itself (its progress bar is the one
        fragment every page polls, ``core/_job_progress.html``)."""
        system = gettext("System")
        statuses = {value: str(label) for value, label in Job.Status.choices}
        rows = []
        for row in self.paginated_rows:
            job = row.record
            rows.append(
                {
                    "job": job,
                    "kind": job_kind_label(job.kind),
                    "status": statuses.get(job.status, job.status),
                    "message": job.message_shown or "—",
                    "started_by": system if job.created_by_id is None else staff_name(job.created_by),
                    "started": _minute(job.created_at),
                    "finished": _minute(job.finished_at),
                }
            )
        return rows


def _minute(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


class NotificationTable(tables.Table):
    title = tables.Column(verbose_name=_("Notification"))
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Time"))

    class Meta:
        model = Notification
        fields = ("title", "body", "created_at", "read_at")
        attrs = {"class": "table table-sm"}
        row_attrs = {"class": lambda record: "" if record.read_at else "fw-semibold"}
        empty_text = _("No notifications. Reviews, referrals and finished jobs that need you will appear here.")

    def render_title(self, record):
        if record.url:
            return format_html('<a href="{}">{}</a>', record.url, record.title_text)
        return record.title_text

    def render_body(self, record):
        return record.body_text
