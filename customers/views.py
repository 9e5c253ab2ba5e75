"""Views of the customer portraits: list and search, the 360° page, PIPL, imports."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from core.access import require
from core.exports import FORMATS, export_response
from core.forms import form_add_service_errors, id_or_none
from core.htmx import render_table_page

from . import access, selectors
from .access import can_export_customers, can_reveal_customer_pii, can_work_customer
from .extensions import PORTRAIT_TABS, PortraitTab
from .filters import AccessRecordFilter, CustomerFilter, quick_fields, search_term_for_audit
from .forms import MappingForm, RevealForm, TagAddForm, UploadForm
from .ingest import schema_for
from .models import ImportBatch, ImportMapping, Tag, ViewPlace
from .services import imports as import_services
from .services import privacy, tags
from .tables import AccessRecordTable, CustomerTable, ImportBatchTable

EXPORT_MAX_ROWS = 100_000


def _user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:200]


def _customer_for(request, pk: int):
    """The customer if the user may see them; else 404, and the refused look is audited."""
    try:
        return selectors.customer_get_for_user(user=request.user, pk=pk)
    except Http404:
        privacy.customer_access_refused(actor=request.user, customer_id=pk, page=ViewPlace.PORTRAIT)
        raise


# --- list ----------------------------------------------------------------------------------------


def customer_list(request):
    f = CustomerFilter(request.GET, queryset=selectors.customers_for_list(user=request.user), request=request)
    table = CustomerTable(f.qs)
    return render_table_page(
        request,
        "customers/list.html",
        table,
        # built only when the page draws the form (an htmx page of the table draws none)
        {"filter": f, "quick_fields": partial(quick_fields, f.form), "can_export": can_export_customers(request.user)},
        per_page=50,
    )


def _export_header() -> list[str]:
    return [
        _("Customer number"),
        pgettext("person", "Name"),
        _("Mobile"),
        _("Tier"),
        _("AUM (CNY)"),
        _("Risk"),
        _("Lifecycle"),
        _("Home branch"),
        _("Last contact"),
    ]


def _export_row(c) -> list:
    return [
        c.customer_no,
        c.name,
        c.mobile,
        c.get_tier_display(),
        c.aum,
        c.get_risk_level_display() or "",
        c.get_lifecycle_stage_display(),
        c.home_branch.name if c.home_branch else "",
        c.last_contact_at,
    ]


def customer_export(request):
    """The filtered list as CSV (``?fmt=xlsx`` for Excel), at most EXPORT_MAX_ROWS rows:
    needs the export permission; recorded before the first byte."""
    if not can_export_customers(request.user):
        raise PermissionDenied
    fmt = request.GET.get("fmt", "csv")
    if fmt not in FORMATS:
        return HttpResponse(_("Unknown export format."), status=400)
    f = CustomerFilter(request.GET, queryset=selectors.customers_for_list(user=request.user), request=request)
    if not f.is_valid():
        return HttpResponse(_("Invalid filter."), status=400)
    qs = f.qs.order_by("-aum", "id")[:EXPORT_MAX_ROWS]
    count = qs.count()
    filters = {k: (search_term_for_audit(v) if k == "q" else v) for k, v in request.GET.items() if v}
    privacy.customers_export_record(actor=request.user, count=count, filters=filters, user_agent=_user_agent(request))
    return export_response(
        fmt=fmt,
        filename="customers",
        header=_export_header(),
        rows=(_export_row(c) for c in qs.iterator(chunk_size=2000)),
        sheet=str(_("Customers")),
    )


# --- the portrait ----------------------------------------------------------------------------------


def _assets_context(request, customer) -> dict:
    return {"assets": selectors.portrait_assets(customer=customer)}


def _tags_context(request, customer) -> dict:
    return {"tags": selectors.portrait_tags(customer=customer), "can_work": can_work_customer(request.user, customer)}


def _interactions_context(request, customer) -> dict:
    before = request.GET.get("before")
    return {
        "timeline": selectors.portrait_interactions(customer=customer, before_id=id_or_none(before)),
        "appending": bool(before),
    }


def _products_context(request, customer) -> dict:
    return {"products": selectors.portrait_suitability(customer=customer)}


# The portrait's own tabs; the apps above add theirs to PORTRAIT_TABS (customers.extensions)
# and their ``order`` places them between these (scoring's needs at 40, referrals' leads at 60).
OWN_TABS = (
    PortraitTab("assets", gettext_lazy("Assets"), "customers/tabs/_assets.html", _assets_context, order=10),
    PortraitTab("tags", gettext_lazy("Tags"), "customers/tabs/_tags.html", _tags_context, order=20),
    PortraitTab(
        "interactions",
        gettext_lazy("Interactions"),
        "customers/tabs/_interactions.html",
        _interactions_context,
        order=30,
    ),
    PortraitTab(
        "products", gettext_lazy("Suitable products"), "customers/tabs/_products.html", _products_context, order=50
    ),
)


def portrait_tabs() -> list[PortraitTab]:
    """Every tab of the portrait in nav order: its own and the registered ones."""
    own = {t.key for t in OWN_TABS}
    return sorted([*OWN_TABS, *(t for t in PORTRAIT_TABS.entries() if t.key not in own)], key=lambda t: t.order)


def _tab(key: str) -> PortraitTab:
    tab = next((t for t in portrait_tabs() if t.key == key), None)
    if tab is None:
        raise Http404
    return tab


def _tab_context(request, customer, tab: PortraitTab) -> dict:
    """Called once the customer is known visible and the view recorded (``_record_view``)."""
    return {"customer": customer, "tab": tab.key, "tab_template": tab.template, **tab.context(request, customer)}


def _record_view(request, customer, tab: PortraitTab) -> None:
    """PIPL: every look at a customer's data leaves an access record, tab by tab."""
    privacy.customer_view_record(
        actor=request.user,
        customer=customer,
        page=ViewPlace.PORTRAIT,
        details={"tab": tab.key},
        user_agent=_user_agent(request),
    )


def _render_portrait(request, customer, key: str, extra: dict | None = None, status: int = 200):
    tab = _tab(key)
    _record_view(request, customer, tab)
    ctx = _tab_context(request, customer, tab)
    ctx.update(
        header=selectors.portrait_header(customer=customer),
        tabs=portrait_tabs(),
        reveal_form=RevealForm(),
        can_reveal=can_reveal_customer_pii(request.user, customer),
    )
    ctx.update(extra or {})
    return render(request, "customers/detail.html", ctx, status=status)


def customer_detail(request, pk: int):
    customer = _customer_for(request, pk)
    return _render_portrait(request, customer, "assets")


def customer_tab(request, pk: int, tab: str):
    """One tab: the pane alone for htmx, the whole portrait for a direct visit."""
    entry = _tab(tab)
    customer = _customer_for(request, pk)
    if request.htmx:
        _record_view(request, customer, entry)
        ctx = _tab_context(request, customer, entry)
        if entry.key == "interactions" and ctx["appending"]:
            return render(request, "customers/tabs/_interactions.html#timeline_items", ctx)
        return render(request, "customers/detail.html#tabpane", ctx)
    return _render_portrait(request, customer, entry.key)


@require_POST
def customer_reveal(request, pk: int):
    customer = _customer_for(request, pk)
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
            form_add_service_errors(form, exc)
    if request.htmx:
        ctx = {"customer": customer, "reveal_form": form, "revealed": revealed, "can_reveal": True}
        return render(request, "customers/detail.html#reveal", ctx, status=200 if revealed else 422)
    if not revealed:
        return _render_portrait(request, customer, "assets", {"reveal_form": form}, status=400)
    return _render_portrait(request, customer, "assets", {"revealed": revealed})


def _tags_response(request, customer):
    if request.htmx:
        tab = _tab("tags")
        return render(request, "customers/detail.html#tabpane", _tab_context(request, customer, tab))
    return redirect("customers:tab", pk=customer.pk, tab="tags")


@require_POST
def customer_tag_add(request, pk: int):
    customer = _customer_for(request, pk)
    form = TagAddForm(request.POST)
    if form.is_valid():
        tags.customer_tag_add(actor=request.user, customer=customer, tag=form.cleaned_data["tag"])
    else:
        messages.error(request, _("Choose a manual tag to add."))
    return _tags_response(request, customer)


@require_POST
def customer_tag_remove(request, pk: int, tag_id: int):
    customer = _customer_for(request, pk)
    tag = get_object_or_404(Tag, pk=tag_id)
    try:
        tags.customer_tag_remove(actor=request.user, customer=customer, tag=tag)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        if request.htmx:
            ctx = _tab_context(request, customer, _tab("tags")) | {"tag_error": exc.messages[0]}
            return render(request, "customers/detail.html#tabpane", ctx, status=422)
    return _tags_response(request, customer)


# --- PIPL access log ---------------------------------------------------------------------------------


@require(access.can_view_access_log)
def access_log(request):
    f = AccessRecordFilter(request.GET, queryset=selectors.access_records_list(user=request.user))
    table = AccessRecordTable(f.qs)
    return render_table_page(request, "customers/access_log.html", table, {"filter": f})


# --- imports ---------------------------------------------------------------------------------------


@require(access.can_import_data)
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
            form_add_service_errors(form, exc)
        else:
            return redirect("customers:import_detail", pk=batch.pk)
    table = ImportBatchTable(selectors.import_batches_for(user=request.user))
    schemas = [(kind, label, schema_for(kind).fields) for kind, label in ImportBatch._meta.get_field("kind").choices]
    return render_table_page(
        request,
        "customers/imports.html",
        table,
        {
            "form": form,
            "schemas": schemas,
            "mappings": ImportMapping.objects.all(),
            "branches": selectors.branches_for_import(),
        },
        per_page=20,
    )


def _batch_for(request, pk: int) -> ImportBatch:
    return selectors.import_batch_get_for_user(user=request.user, pk=pk)


@require(access.can_import_data)
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
            form_add_service_errors(form, exc)
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


@require(access.can_import_data)
def import_status(request, pk: int):
    batch = _batch_for(request, pk)
    return render(request, "customers/import_detail.html#status", _import_ctx(batch))


@require(access.can_import_data)
def import_errors_csv(request, pk: int):
    """The rejected rows of the dry run or the import (the uploader's own data: the
    values come from their file, so no personal-data export is recorded)."""
    batch = _batch_for(request, pk)
    source = batch.report if batch.report else batch.preview
    return export_response(
        fmt="csv",
        filename=f"import-{batch.pk}-errors",
        header=[_("Line"), _("Column"), _("Value"), _("Message")],
        rows=([e["line"], e["column"], e["value"], e["message"]] for e in (source or {}).get("errors", [])),
    )
