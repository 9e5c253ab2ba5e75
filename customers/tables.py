"""Tables of the customer app (rendered by the project's one htmx table template)."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.templatetags.formatting import cny
from org.roles import staff_name

from .forms import REVEAL_CHOICES
from .models import AccessKind, AccessRecord, Customer, ImportBatch, LifecycleStage, RiskLevel, Tier, ViewPlace

EMPTY = "—"


def _labels(choices) -> dict:
    """A choice's labels in the reader's language, translated once for a page of rows
    (``get_<field>_display()`` builds and translates every choice for each cell)."""
    return {value: str(label) for value, label in choices.choices}


def _local_date(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d") if value else EMPTY


class CustomerTable(tables.Table):
    customer_no = tables.Column(verbose_name=_("Customer number"))
    name = tables.Column(verbose_name=pgettext_lazy("person", "Name"))
    tier = tables.Column(verbose_name=_("Tier"))
    aum = tables.Column(verbose_name=_("AUM (CNY)"), attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}})
    risk_level = tables.Column(verbose_name=_("Risk"))
    lifecycle_stage = tables.Column(verbose_name=_("Lifecycle"))
    owner = tables.Column(verbose_name=_("Owner advisor"), order_by=("owner__staff_profile__display_name",))
    home_branch = tables.Column(verbose_name=_("Home branch"), order_by=("home_branch__name",))
    last_contact_at = tables.DateTimeColumn(verbose_name=_("Last contact"), format="Y-m-d")

    class Meta:
        model = Customer
        fields = (
            "customer_no",
            "name",
            "tier",
            "aum",
            "risk_level",
            "lifecycle_stage",
            "owner",
            "home_branch",
            "last_contact_at",
        )
        attrs = {"class": "table table-sm table-hover", "data-testid": "customer-table"}
        empty_text = _("No customer matches. Clear a filter, or search by customer number or name.")
        template_name = "customers/_customer_table.html"

    @property
    def summary(self):
        paginator = getattr(self, "paginator", None)
        if paginator is None:
            return ""
        if getattr(paginator, "capped", False):
            return _("More than %(n)s customers; narrow the search.") % {
                "n": number_format(paginator.count, force_grouping=True)
            }
        return _("%(n)s customers") % {"n": number_format(paginator.count, force_grouping=True)}

    @property
    def customer_rows(self) -> list[dict]:
        """The page's rows as text, for customers/_customer_table.html: one template and
        no per-cell rendering calls (the list's first page at 1M customers stays fast)."""
        tiers, risks, stages = _labels(Tier), _labels(RiskLevel), _labels(LifecycleStage)
        rows = []
        for row in self.paginated_rows:
            c = row.record
            profile = getattr(c.owner, "staff_profile", None) if c.owner_id else None
            rows.append(
                {
                    "pk": c.pk,
                    "customer_no": c.customer_no,
                    "name": c.name_masked,
                    "tier": tiers.get(c.tier, c.tier),
                    "aum": cny(c.aum),
                    "risk": risks.get(c.risk_level, c.risk_level) or EMPTY,
                    "risk_expired": c.risk_expired,
                    "stage": stages.get(c.lifecycle_stage, c.lifecycle_stage),
                    "owner": (profile.display_name if profile else "") or EMPTY,
                    "branch": (c.home_branch.name if c.home_branch_id else "") or EMPTY,
                    "last_contact": _local_date(c.last_contact_at),
                }
            )
        return rows


# What an access record's ``fields`` hold, in words.
ACCESS_FIELD_LABELS = {"list": _("the whole list"), **dict(REVEAL_CHOICES)}


class AccessRecordTable(tables.Table):
    occurred_at = tables.DateTimeColumn(verbose_name=_("Time"), format="Y-m-d H:i:s")
    user = tables.Column(verbose_name=_("User"), order_by=("user__username",))
    customer = tables.Column(verbose_name=_("Customer"), order_by=("customer__customer_no",))
    kind = tables.Column(verbose_name=_("Kind"))
    fields = tables.Column(verbose_name=_("Fields"), orderable=False)
    reason = tables.Column(verbose_name=_("Reason"), orderable=False)
    ip_address = tables.Column(verbose_name=_("IP address"), orderable=False)

    class Meta:
        model = AccessRecord
        fields = ("occurred_at", "user", "customer", "kind", "fields", "reason", "ip_address")
        attrs = {"class": "table table-sm", "data-testid": "access-table"}
        empty_text = _("No access recorded yet. Opening a portrait, revealing a number or exporting is recorded here.")
        template_name = "customers/_access_table.html"

    @property
    def access_rows(self) -> list[dict]:
        """The page's records as text, for customers/_access_table.html (no per-cell
        rendering calls). An empty cell shows "—", as the table's columns did."""
        kinds = _labels(AccessKind)
        places = _labels(ViewPlace)
        rows = []
        for row in self.paginated_rows:
            r = row.record
            kind = kinds.get(r.kind, r.kind)
            page = (r.details or {}).get("page")
            c = r.customer
            rows.append(
                {
                    "request_id": r.request_id,
                    "time": timezone.localtime(r.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
                    "user": _access_user(r.user),
                    "customer": format_html("{} {}", c.customer_no, c.name_masked) if c is not None else EMPTY,
                    "kind": format_html("{} · {}", kind, places[page]) if page in places else kind,
                    "fields": ACCESS_FIELD_LABELS.get(r.fields, r.fields) if r.fields else EMPTY,
                    "reason": r.reason or EMPTY,
                    "ip": r.ip_address or EMPTY,
                }
            )
        return rows


def _access_user(user) -> str:
    # The employee number names the person for an audit; the username is a log-in.
    if user is None:
        return EMPTY
    profile = getattr(user, "staff_profile", None)
    if profile is None:
        return staff_name(user)
    return format_html("{} <span class='text-secondary small'>{}</span>", profile.display_name, profile.employee_no)


class ImportBatchTable(tables.Table):
    created_at = tables.DateTimeColumn(verbose_name=_("Uploaded"), format="Y-m-d H:i")
    original_name = tables.Column(verbose_name=_("File"))
    kind = tables.Column(verbose_name=_("Data"))
    status = tables.Column(verbose_name=_("Status"))
    total_rows = tables.Column(verbose_name=_("Rows"))
    created_by = tables.Column(verbose_name=_("Uploaded by"), orderable=False)

    class Meta:
        model = ImportBatch
        fields = ("created_at", "original_name", "kind", "status", "total_rows", "created_by")
        attrs = {"class": "table table-sm", "data-testid": "import-table"}
        empty_text = _(
            "No file uploaded yet. Upload a CSV or Excel file above; you check it before anything is written."
        )

    def render_original_name(self, record, value):
        return format_html('<a href="{}">{}</a>', reverse("customers:import_detail", args=[record.pk]), value)

    def render_kind(self, record):
        return record.get_kind_display()

    def render_status(self, record):
        return record.get_status_display()

    def render_created_by(self, record):
        return staff_name(record.created_by)
