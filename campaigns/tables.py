import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from org.roles import staff_name

from .channels.base import recipient_masked
from .models import Campaign, Message, Segment

_STATUS_BADGE = {
    # messages
    "queued": "secondary",
    "held": "warning",
    "sending": "info",
    "sent": "primary",
    "delivered": "success",
    "failed": "danger",
    "cancelled": "light",
    # campaigns
    "draft": "secondary",
    "pending_approval": "warning",
    "scheduled": "info",
    "running": "success",
    "paused": "dark",
    "ended": "light",
}


def status_badge(value: str, label) -> str:
    return format_html('<span class="badge text-bg-{}">{}</span>', _STATUS_BADGE.get(value, "light"), label)


class CampaignTable(tables.Table):
    name = tables.Column(verbose_name=_("Campaign"))
    status = tables.Column(verbose_name=_("Status"))
    priority = tables.Column(verbose_name=_("Priority"))
    audience = tables.Column(verbose_name=_("Segment"), empty_values=(), orderable=False)
    starts_on = tables.DateColumn(verbose_name=_("Starts on"), format="Y-m-d")
    ends_on = tables.DateColumn(verbose_name=_("Ends on"), format="Y-m-d")
    created_by = tables.Column(verbose_name=_("Author"), empty_values=(), orderable=False)

    class Meta:
        model = Campaign
        fields = ("name", "status", "priority", "audience", "starts_on", "ends_on", "created_by")
        attrs = {"class": "table table-sm", "data-testid": "campaign-table"}
        empty_text = _("No campaigns here yet. A campaign manager creates one with “New campaign”.")

    def render_name(self, record, value):
        url = reverse("campaigns:detail", args=[record.pk])
        return format_html('<a href="{}">{}</a> <span class="text-secondary small">{}</span>', url, value, record.code)

    def render_status(self, record):
        return status_badge(record.status, record.get_status_display())

    def render_audience(self, record):
        return record.audience.name if record.audience_id else "—"

    def render_created_by(self, record):
        return staff_name(record.created_by)


class SegmentTable(tables.Table):
    name = tables.Column(verbose_name=_("Segment"))
    kind = tables.Column(verbose_name=_("Kind"))
    member_count = tables.Column(verbose_name=_("Members"))
    counted_at = tables.DateTimeColumn(verbose_name=_("Counted at"), format="Y-m-d H:i")
    created_by = tables.Column(verbose_name=_("Author"), empty_values=(), orderable=False)

    class Meta:
        model = Segment
        fields = ("name", "kind", "member_count", "counted_at", "created_by")
        attrs = {"class": "table table-sm", "data-testid": "segment-table"}
        empty_text = _("No segments saved yet. Build one with “New segment”, or save a filter of the customer list.")

    def render_name(self, record, value):
        return format_html('<a href="{}">{}</a>', reverse("campaigns:segment_detail", args=[record.pk]), value)

    def render_created_by(self, record):
        return staff_name(record.created_by)


class MessageTable(tables.Table):
    created_at = tables.DateTimeColumn(verbose_name=_("Created at"), format="Y-m-d H:i")
    channel = tables.Column(verbose_name=_("Channel"))
    recipient = tables.Column(verbose_name=_("Recipient"), orderable=False)
    campaign = tables.Column(verbose_name=_("Campaign"), empty_values=(), orderable=False)
    status = tables.Column(verbose_name=_("Status"))
    body = tables.Column(verbose_name=_("Text"), orderable=False)
    attempts = tables.Column(verbose_name=_("Attempts"))
    last_error = tables.Column(verbose_name=_("Last error"), orderable=False)

    class Meta:
        model = Message
        fields = ("created_at", "channel", "recipient", "campaign", "status", "body", "attempts", "last_error")
        attrs = {"class": "table table-sm", "data-testid": "outbox-table"}
        empty_text = _(
            "No messages match. Messages appear here once a running campaign sends; clear the filters to see all."
        )

    def render_recipient(self, value):
        return recipient_masked(value)

    def render_campaign(self, record):
        if not record.campaign_id:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("campaigns:detail", args=[record.campaign_id]), record.campaign.name
        )

    def render_status(self, record):
        return status_badge(record.status, record.get_status_display())

    def render_body(self, record, value):
        if record.subject:
            return format_html("<strong>{}</strong><br>{}", record.subject, value)
        return value
