from django.contrib import admin

from core.admin import ReadOnlyAdmin

from . import models as m


class HoldingInline(admin.TabularInline):
    model = m.Holding
    extra = 0
    raw_id_fields = ("product",)


class RiskAssessmentInline(admin.TabularInline):
    model = m.RiskAssessment
    extra = 0


class ContactPreferenceInline(admin.TabularInline):
    model = m.ContactPreference
    extra = 0


@admin.register(m.Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("customer_no", "name", "tier", "aum", "risk_level", "home_branch", "owner", "lifecycle_stage")
    list_filter = ("tier", "risk_level", "lifecycle_stage", "gender", "home_branch")
    search_fields = ("=customer_no", "name", "=mobile_last4", "=id_last4")
    list_select_related = ("home_branch", "owner")
    raw_id_fields = ("owner", "home_branch")
    readonly_fields = ("mobile_last4", "id_last4", "created_at", "updated_at")
    inlines = [RiskAssessmentInline, HoldingInline, ContactPreferenceInline]
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page


@admin.register(m.RiskAssessment)
class RiskAssessmentAdmin(admin.ModelAdmin):
    list_display = ("customer", "level", "assessed_at", "channel", "completed_by_customer")
    list_filter = ("level", "channel", "completed_by_customer")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer",)
    show_full_result_count = False


@admin.register(m.Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "type", "risk_level", "min_amount", "term_days", "on_shelf", "is_private")
    list_filter = ("type", "risk_level", "on_shelf", "is_private")
    search_fields = ("code", "name", "issuer")


@admin.register(m.Holding)
class HoldingAdmin(admin.ModelAdmin):
    list_display = ("customer", "product", "amount", "opened_on", "maturity_date")
    list_filter = ("product__type", "product__risk_level")
    search_fields = ("=customer__customer_no", "product__code")
    raw_id_fields = ("customer", "product")
    show_full_result_count = False


@admin.register(m.AssetSnapshot)
class AssetSnapshotAdmin(admin.ModelAdmin):
    list_display = ("customer", "date", "aum", "deposits", "wealth", "funds", "insurance", "other")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer",)
    date_hierarchy = "date"
    show_full_result_count = False


@admin.register(m.Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "category", "source")
    list_filter = ("category", "source")
    search_fields = ("code", "name")


@admin.register(m.CustomerTag)
class CustomerTagAdmin(ReadOnlyAdmin):
    list_display = ("customer", "tag", "source", "score", "assigned_at")
    list_filter = ("source", "tag__category")
    search_fields = ("=customer__customer_no", "tag__code")
    raw_id_fields = ("customer", "tag", "assigned_by")
    show_full_result_count = False


@admin.register(m.Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = ("customer", "channel", "direction", "occurred_at", "actor", "summary")
    list_filter = ("channel", "direction")
    search_fields = ("=customer__customer_no", "=external_id")
    raw_id_fields = ("customer", "actor")
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(m.ContactPreference)
class ContactPreferenceAdmin(admin.ModelAdmin):
    list_display = ("customer", "channel", "consent", "opted_out_at", "dnd_until", "reason")
    list_filter = ("channel", "consent")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer",)
    show_full_result_count = False


# --- Portraits: PIPL access records, imports, integration clients (issue 3) -----------------


@admin.register(m.AccessRecord)
class AccessRecordAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "user", "customer", "kind", "fields", "reason", "ip_address")
    list_filter = ("kind",)
    search_fields = ("=user__username", "=customer__customer_no", "reason")
    raw_id_fields = ("user", "customer")
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False  # evidence: read-only

    def has_delete_permission(self, request, obj=None):
        return False


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
class CustomerAccessAdmin(ReadOnlyAdmin):
    list_display = ("customer", "reason", "team", "branch", "granted_at")
    list_filter = ("reason", "team", "branch")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer",)
