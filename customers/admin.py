from django.contrib import admin

from core.admin import ReadOnlyAdmin

from . import models as m
from .services.customers import EDITABLE_FIELDS, customer_save
from .services.privacy import customer_view_record


class _ReadOnlyInline(admin.TabularInline):
    """A customer's history shown on their admin page; it changes through its own
    services and imports, never here (see the model admins below for why)."""

    extra = 0
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HoldingInline(_ReadOnlyInline):
    model = m.Holding
    raw_id_fields = ("product",)


class RiskAssessmentInline(_ReadOnlyInline):
    model = m.RiskAssessment


class ContactPreferenceInline(_ReadOnlyInline):
    model = m.ContactPreference


class CustomerViewRecorded:
    """For the admin of a model that shows a customer (the customer itself, or a row with
    a ``customer``): opening its change page leaves the PIPL access record, as the
    portrait does. Put it first among the bases."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and response.status_code == 200 and obj is not None:
            customer_id = obj.pk if isinstance(obj, m.Customer) else getattr(obj, "customer_id", None)
            if customer_id is not None:
                customer_view_record(
                    actor=request.user,
                    customer=customer_id,
                    page=m.ViewPlace.ADMIN,
                    details={"model": obj._meta.label_lower, "id": obj.pk},
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                )
        return response


@admin.register(m.Customer)
class CustomerAdmin(CustomerViewRecorded, admin.ModelAdmin):
    """Hand edits of a customer go through ``customer_save``: the last four digits follow
    the numbers, the tier the AUM, and each change is audited. The risk level and the last
    contact follow their histories and are shown only. No deleting here: a customer's
    interactions, holdings and PIPL records would go with them."""

    list_display = ("customer_no", "name", "tier", "aum", "risk_level", "home_branch", "owner", "lifecycle_stage")
    list_filter = ("tier", "risk_level", "lifecycle_stage", "gender", "home_branch")
    search_fields = ("=customer_no", "name", "=mobile_last4", "=id_last4")
    list_select_related = ("home_branch", "owner")
    raw_id_fields = ("owner", "home_branch")
    readonly_fields = (
        "tier",
        "mobile_last4",
        "id_last4",
        "risk_level",
        "risk_assessed_at",
        "last_contact_at",
        "created_at",
        "updated_at",
    )
    inlines = [RiskAssessmentInline, HoldingInline, ContactPreferenceInline]
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        fields = form.changed_data if change else list(form.cleaned_data)
        data = {f: form.cleaned_data[f] for f in fields if f in EDITABLE_FIELDS}
        customer_save(actor=request.user, customer=obj, data=data)


# A risk assessment is the customer's regulated record from the bank's systems, and
# Customer.risk_level / risk_assessed_at follow the latest one (the import keeps them):
# shown only, so the two never disagree.
@admin.register(m.RiskAssessment)
class RiskAssessmentAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "level", "assessed_at", "channel", "completed_by_customer")
    list_filter = ("level", "channel", "completed_by_customer")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer",)


# Reference data, edited here: nothing is derived from a product's row (suitability reads
# it live), so a plain save keeps everything right.
@admin.register(m.Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "type", "risk_level", "min_amount", "term_days", "on_shelf", "is_private")
    list_filter = ("type", "risk_level", "on_shelf", "is_private")
    search_fields = ("code", "name", "issuer")


# Holdings and snapshots come from core banking (files, the API) by external key; an edit
# here would be overwritten by the next import and disagree with the bank's books.
@admin.register(m.Holding)
class HoldingAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "product", "amount", "opened_on", "maturity_date")
    list_filter = ("product__type", "product__risk_level")
    search_fields = ("=customer__customer_no", "product__code")
    raw_id_fields = ("customer", "product")


@admin.register(m.AssetSnapshot)
class AssetSnapshotAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "date", "aum", "deposits", "wealth", "funds", "insurance", "other")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer",)
    date_hierarchy = "date"


# Fund flows come from core banking too (files, the API), by their transaction id.
@admin.register(m.FundFlow)
class FundFlowAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "occurred_at", "direction", "amount", "channel", "external_id")
    list_filter = ("direction", "channel")
    search_fields = ("=customer__customer_no", "=external_id")
    raw_id_fields = ("customer",)
    date_hierarchy = "occurred_at"


# Reference data (the tag catalogue), edited here: customers' tags point at it and
# nothing copies its name or category.
@admin.register(m.Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "category", "source")
    list_filter = ("category", "source")
    search_fields = ("code", "name")


@admin.register(m.CustomerTag)
class CustomerTagAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "tag", "source", "score", "assigned_at")
    list_filter = ("source", "tag__category")
    search_fields = ("=customer__customer_no", "tag__code")
    raw_id_fields = ("customer", "tag", "assigned_by")


@admin.register(m.Interaction)
class InteractionAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "channel", "direction", "occurred_at", "actor", "summary")
    list_filter = ("channel", "direction")
    search_fields = ("=customer__customer_no", "=external_id")
    raw_id_fields = ("customer", "actor")
    date_hierarchy = "occurred_at"


@admin.register(m.InteractionIntent)
class InteractionIntentAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "intent", "occurred_at", "interaction")
    list_filter = ("intent",)
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer", "interaction")
    date_hierarchy = "occurred_at"


# Consent and opt-outs are the customer's word, recorded (and audited) by
# customers.services.contact when the customer says so; not edited by hand.
@admin.register(m.ContactPreference)
class ContactPreferenceAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "channel", "consent", "opted_out_at", "dnd_until", "reason")
    list_filter = ("channel", "consent")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer",)


# --- PIPL access records, imports, integration clients -----------------------------------


@admin.register(m.AccessRecord)
class AccessRecordAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("occurred_at", "user", "customer", "kind", "fields", "reason", "ip_address")
    list_filter = ("kind",)
    search_fields = ("=user__username", "=customer__customer_no", "reason")
    raw_id_fields = ("user", "customer")
    date_hierarchy = "occurred_at"


# Saved column mappings and integration clients are configuration: nothing derives from them.
@admin.register(m.ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    raw_id_fields = ("created_by",)


@admin.register(m.ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "kind", "status", "total_rows", "created_by", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("original_name", "sha256")
    raw_id_fields = ("created_by", "job")
    readonly_fields = ("sha256", "headers", "preview", "report")


@admin.register(m.IntegrationClient)
class IntegrationClientAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "scopes", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "user__username")
    raw_id_fields = ("user",)


@admin.register(m.CustomerAccess)
class CustomerAccessAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "reason", "team", "branch", "granted_at")
    list_filter = ("reason", "team", "branch")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer",)


@admin.register(m.ContactLedgerEntry)
class ContactLedgerEntryAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "channel", "status", "source", "source_id", "priority", "slot_at")
    list_filter = ("status", "channel", "source")
    search_fields = ("customer__customer_no", "key")
    raw_id_fields = ("customer",)


@admin.register(m.AutomatedMarketingOptOut)
class AutomatedMarketingOptOutAdmin(ReadOnlyAdmin):
    list_display = ("customer", "opted_out_at", "reason")
    search_fields = ("customer__customer_no",)
    raw_id_fields = ("customer",)
