from django.contrib import admin

from . import models as m


@admin.register(m.Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("customer", "proposed_grade", "confirmed_grade", "status", "score", "team", "owner", "created_at")
    list_filter = ("status", "proposed_grade", "confirmed_grade", "source", "team")
    search_fields = ("=customer__customer_no", "customer__name")
    raw_id_fields = ("customer", "owner")
    list_select_related = ("customer", "team", "owner")
    show_full_result_count = False


@admin.register(m.Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ("customer", "branch", "status", "from_advisor", "assigned_rm", "converted_amount", "created_at")
    list_filter = ("status", "branch")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("lead", "customer", "from_advisor", "assigned_rm")
    list_select_related = ("customer", "branch", "from_advisor", "assigned_rm")


@admin.register(m.CustomerScore)
class CustomerScoreAdmin(admin.ModelAdmin):
    list_display = ("customer", "score", "grade", "method", "model_version", "scored_at")
    list_filter = ("grade", "method")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer",)
    show_full_result_count = False


@admin.register(m.Outcome)
class OutcomeAdmin(admin.ModelAdmin):
    list_display = ("customer", "contacted_at", "channel", "converted", "amount", "source")
    list_filter = ("converted", "source", "channel")
    search_fields = ("=customer__customer_no", "=external_key")
    raw_id_fields = ("customer", "product", "campaign")
    show_full_result_count = False


# --- queues and calls (issue 5) ---


@admin.register(m.Disposition)
class DispositionAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "label_en", "connected", "effective", "requests_callback", "active", "sort_order")
    list_editable = ("active", "sort_order")
    list_filter = ("active", "connected", "effective")
    search_fields = ("code", "label", "label_en")


@admin.register(m.CallLog)
class CallLogAdmin(admin.ModelAdmin):
    list_display = ("customer", "advisor", "started_at", "disposition", "purpose", "next_action", "won_amount")
    list_filter = ("purpose", "disposition", "next_action")
    search_fields = ("=customer__customer_no", "=idempotency_key")
    raw_id_fields = ("lead", "customer", "advisor", "won_product", "interaction", "outcome")
    filter_horizontal = ("products", "needs")
    list_select_related = ("customer", "advisor", "disposition")
    show_full_result_count = False


@admin.register(m.PlannedCall)
class PlannedCallAdmin(admin.ModelAdmin):
    list_display = ("customer", "advisor", "kind", "due_at", "status", "touch_no")
    list_filter = ("kind", "status")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("lead", "customer", "advisor", "call_log")
    list_select_related = ("customer", "advisor")
    show_full_result_count = False


@admin.register(m.NurturePlan)
class NurturePlanAdmin(admin.ModelAdmin):
    list_display = ("lead", "advisor", "touches_done", "touches_planned", "period_days", "next_touch_at", "active")
    list_filter = ("active",)
    raw_id_fields = ("lead", "advisor")
    show_full_result_count = False


@admin.register(m.LeadTransition)
class LeadTransitionAdmin(admin.ModelAdmin):
    list_display = ("lead", "from_status", "to_status", "actor", "reason", "occurred_at")
    list_filter = ("to_status", "from_status")
    search_fields = ("=lead__id", "=lead__customer__customer_no")
    raw_id_fields = ("lead", "actor")
    show_full_result_count = False


@admin.register(m.GradeDecision)
class GradeDecisionAdmin(admin.ModelAdmin):
    list_display = ("lead", "advisor", "proposed_grade", "confirmed_grade", "overridden", "reason_code", "decided_at")
    list_filter = ("overridden", "reason_code", "confirmed_grade")
    raw_id_fields = ("lead", "advisor")
    show_full_result_count = False
