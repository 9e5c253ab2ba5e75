"""Views of the customer portraits: list and search, the 360° page, PIPL, imports."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.exports import spreadsheet_row
from core.htmx import render_table_page
from org.roles import Role, role_of, role_required

from . import selectors
from .filters import AccessRecordFilter, CustomerFilter
from .forms import MappingForm, RevealForm, TagAddForm, UploadForm
from .ingest import schema_for
from .models import AccessKind, ImportBatch, ImportMapping, Tag
from .services import imports as import_services
from .services import privacy, tags
from .tables import AccessRecordTable, CustomerTable, ImportBatchTable

TABS = [
    ("assets", gettext_lazy("Assets")),
    ("tags", gettext_lazy("Tags")),
    ("interactions", gettext_lazy("Interactions")),
    ("needs", gettext_lazy("Needs and propensities")),
    ("products", gettext_lazy("Suitable products")),
    ("leads", gettext_lazy("Leads and referrals")),
]
TAB_NAMES = {name for name, _label in TABS}
WRITE_ROLES = (Role.ADVISOR, Role.TEAM_LEAD, Role.BRANCH_MANAGER, Role.BRANCH_RM, Role.ADMIN)
EXPORT_MAX_ROWS = 100_000


def _user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:200]


# --- list ----------------------------------------------------------------------------------------


def customer_list(request):
    f = CustomerFilter(request.GET, queryset=selectors.customers_for_list(user=request.user))
    table = CustomerTable(f.qs)
    return render_table_page(
        request,
        "customers/list.html",
        table,
        {"filter": f, "can_export": request.user.has_perm("customers.export_customers")},
        per_page=50,
    )


def customer_export(request):
    """CSV of the filtered list: needs the export permission; recorded before streaming."""
    if not request.user.has_perm("customers.export_customers"):
        raise PermissionDenied
    f = CustomerFilter(request.GET, queryset=selectors.customers_for_list(user=request.user))
    if not f.is_valid():
        return HttpResponse(_("Invalid filter."), status=400)
    qs = f.qs.order_by("-aum", "id")[:EXPORT_MAX_ROWS]
    count = qs.count()
    filters = {k: v for k, v in request.GET.items() if v}
    privacy.customers_export_record(actor=request.user, count=count, filters=filters, user_agent=_user_agent(request))

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())
    header = [
        _("Customer number"),
        _("Name"),
        _("Mobile"),
        _("Tier"),
        _("AUM (CNY)"),
        _("Risk"),
        _("Lifecycle"),
        _("Home branch"),
        _("Last contact"),
    ]

    def rows():
        yield "\ufeff" + writer.writerow(header)  # BOM: Excel opens UTF-8 CSV correctly
        for c in qs.iterator(chunk_size=2000):
            yield writer.writerow(
                spreadsheet_row(
                    [
                        c.customer_no,
                        c.name,
                        c.mobile,
                        c.get_tier_display(),
                        c.aum,
                        c.get_risk_level_display() or "",
                        c.get_lifecycle_stage_display(),
                        c.home_branch.name if c.home_branch else "",
                        c.last_contact_at.isoformat() if c.last_contact_at else "",
                    ]
                )
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="customers.csv"'
    return response


# --- the portrait ----------------------------------------------------------------------------------


def _tab_context(request, customer, tab: str) -> dict:
    ctx: dict = {"customer": customer, "tab": tab, "tab_template": f"customers/tabs/_{tab}.html"}
    if tab == "assets":
        ctx["assets"] = selectors.portrait_assets(customer=customer)
    elif tab == "tags":
        ctx["tags"] = selectors.portrait_tags(customer=customer)
        ctx["can_write"] = role_of(request.user) in WRITE_ROLES
    elif tab == "interactions":
        before = request.GET.get("before")
        ctx["timeline"] = selectors.portrait_interactions(
            customer=customer, before_id=int(before) if before and before.isdigit() else None
        )
        ctx["appending"] = bool(before)
    elif tab == "needs":
        ctx["needs"] = selectors.portrait_needs(customer=customer)
    elif tab == "products":
        ctx["products"] = selectors.portrait_suitability(customer=customer)
    elif tab == "leads":
        ctx["history"] = selectors.portrait_leads(customer=customer)
    return ctx


def _record_view(request, customer, tab: str) -> None:
    """PIPL: every look at a customer's data leaves an access record, tab by tab."""
    privacy.access_record(
        user=request.user,
        customer=customer,
        kind=AccessKind.VIEW,
        details={"tab": tab},
        user_agent=_user_agent(request),
    )


def _render_portrait(request, customer, tab: str, extra: dict | None = None):
    _record_view(request, customer, tab)
    ctx = _tab_context(request, customer, tab)
    ctx.update(
        header=selectors.portrait_header(customer=customer),
        tabs=TABS,
        reveal_form=RevealForm(),
        can_reveal=request.user.has_perm("customers.reveal_customer_pii"),
        **(extra or {}),
    )
    return render(request, "customers/detail.html", ctx)


def customer_detail(request, pk: int):
    customer = selectors.customer_get_for_user(user=request.user, pk=pk)
    return _render_portrait(request, customer, "assets")


def customer_tab(request, pk: int, tab: str):
    """One tab: the pane alone for htmx, the whole portrait for a direct visit."""
    if tab not in TAB_NAMES:
        raise Http404
    customer = selectors.customer_get_for_user(user=request.user, pk=pk)
    if request.htmx:
        _record_view(request, customer, tab)
        ctx = _tab_context(request, customer, tab)
        if tab == "interactions" and ctx["appending"]:
            return render(request, "customers/tabs/_interactions.html#timeline_items", ctx)
        return render(request, "customers/detail.html#tabpane", ctx)
    return _render_portrait(request, customer, tab)


@require_POST
def customer_reveal(request, pk: int):
    customer = selectors.customer_get_for_user(user=request.user, pk=pk)
    form = RevealForm(request.POST)
    revealed = None
    if form.is_valid():
        try:
            value = privacy.customer_reveal_pii(
                actor=request.user,
                customer=customer,
                field=form.cleaned_data["field"],
                reason=form.cleaned_data["reason"],
                user_agent=_user_agent(request),
            )
            revealed = {"field": form.cleaned_data["field"], "value": value}
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
    status = 200 if revealed else 400
    if request.htmx:
        ctx = {"customer": customer, "reveal_form": form, "revealed": revealed, "can_reveal": True}
        return render(request, "customers/detail.html#reveal", ctx, status=200 if revealed else 422)
    if not revealed:
        return render(request, "customers/detail.html", _full_ctx(request, customer, form), status=status)
    return _render_portrait(request, customer, "assets", {"revealed": revealed})


def _full_ctx(request, customer, form) -> dict:
    ctx = _tab_context(request, customer, "assets")
    ctx.update(header=selectors.portrait_header(customer=customer), tabs=TABS, reveal_form=form, can_reveal=True)
    return ctx


def _tags_response(request, customer):
    if request.htmx:
        return render(request, "customers/detail.html#tabpane", _tab_context(request, customer, "tags"))
    return redirect("customers:tab", pk=customer.pk, tab="tags")


@require_POST
@role_required(*WRITE_ROLES)
def customer_tag_add(request, pk: int):
    customer = selectors.customer_get_for_user(user=request.user, pk=pk)
    form = TagAddForm(request.POST)
    if form.is_valid():
        tags.customer_tag_add(actor=request.user, customer=customer, tag=form.cleaned_data["tag"])
    else:
        messages.error(request, _("Choose a manual tag to add."))
    return _tags_response(request, customer)


@require_POST
@role_required(*WRITE_ROLES)
def customer_tag_remove(request, pk: int, tag_id: int):
    customer = selectors.customer_get_for_user(user=request.user, pk=pk)
    tag = get_object_or_404(Tag, pk=tag_id)
    try:
        tags.customer_tag_remove(actor=request.user, customer=customer, tag=tag)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        if request.htmx:
            ctx = _tab_context(request, customer, "tags") | {"tag_error": exc.messages[0]}
            return render(request, "customers/detail.html#tabpane", ctx, status=422)
    return _tags_response(request, customer)


# --- PIPL access log ---------------------------------------------------------------------------------


@role_required(Role.COMPLIANCE, Role.ADMIN)
def access_log(request):
    f = AccessRecordFilter(request.GET, queryset=selectors.access_records_list(user=request.user))
    table = AccessRecordTable(f.qs)
    return render_table_page(
        request, "customers/access_log.html", table, {"filter": f}
    )


# --- imports ---------------------------------------------------------------------------------------


IMPORT_ROLES = (Role.TEAM_LEAD, Role.ADMIN)


@role_required(*IMPORT_ROLES)
def import_list(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = import_services.import_batch_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                uploaded_file=form.cleaned_data["file"],
                mapping=form.cleaned_data["mapping"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            return redirect("customers:import_detail", pk=batch.pk)
    table = ImportBatchTable(selectors.import_batches_for(user=request.user))
    schemas = [(kind, label, schema_for(kind).fields) for kind, label in ImportBatch._meta.get_field("kind").choices]
    return render_table_page(
        request,
        "customers/imports.html",
        table,
        {"form": form, "schemas": schemas, "mappings": ImportMapping.objects.all()},
        per_page=20,
    )


def _batch_for(request, pk: int) -> ImportBatch:
    return get_object_or_404(selectors.import_batches_for(user=request.user), pk=pk)


@role_required(*IMPORT_ROLES)
def import_detail(request, pk: int):
    batch = _batch_for(request, pk)
    form = MappingForm(request.POST or None, kind=batch.kind, headers=batch.headers, initial_columns=batch.columns)
    if request.method == "POST":
        action = request.POST.get("action", "dry_run")
        try:
            if action == "import":
                import_services.import_batch_start(actor=request.user, batch=batch, dry_run=False)
                return redirect("customers:import_detail", pk=batch.pk)
            if form.is_valid():
                import_services.import_batch_set_mapping(
                    actor=request.user, batch=batch, columns=form.columns(), save_as=form.cleaned_data["save_as"]
                )
                import_services.import_batch_start(actor=request.user, batch=batch, dry_run=True)
                return redirect("customers:import_detail", pk=batch.pk)
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error(None, error)
    batch.refresh_from_db()
    return render(request, "customers/import_detail.html", _import_ctx(batch) | {"form": form})


def _import_ctx(batch: ImportBatch) -> dict:
    schema = schema_for(batch.kind)
    labels = {s.name: s.label for s in schema.fields}
    preview = batch.preview or {}
    return {
        "batch": batch,
        "job": batch.job,
        "preview": preview,
        "preview_headers": [labels.get(f, f) for f in preview.get("preview_fields", [])],
        "report": batch.report or {},
        "busy": batch.status in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING),
    }


@role_required(*IMPORT_ROLES)
def import_status(request, pk: int):
    batch = _batch_for(request, pk)
    return render(request, "customers/import_detail.html#status", _import_ctx(batch))


@role_required(*IMPORT_ROLES)
def import_errors_csv(request, pk: int):
    batch = _batch_for(request, pk)
    source = batch.report if batch.report else batch.preview
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([_("Line"), _("Column"), _("Value"), _("Message")])
    for e in (source or {}).get("errors", []):
        writer.writerow(spreadsheet_row([e["line"], e["column"], e["value"], e["message"]]))
    return response
