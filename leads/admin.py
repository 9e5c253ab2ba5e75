from django.contrib import admin

from core.admin import ReadOnlyAdmin
from customers.admin import CustomerViewRecorded

from . import models as m


@admin.register(m.Lead)
class LeadAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "proposed_grade", "confirmed_grade", "status", "score", "team", "owner", "created_at")
    list_filter = ("status", "proposed_grade", "confirmed_grade", "source", "team")
    search_fields = ("=customer__customer_no", "customer__name")
    raw_id_fields = ("customer", "owner")
    list_select_related = ("customer", "team", "owner")
    show_full_result_count = False


# --- queues and calls (issue 5) ---


@admin.register(m.PlannedCall)
class PlannedCallAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "advisor", "kind", "due_at", "status", "touch_no")
    list_filter = ("kind", "status")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("lead", "customer", "advisor")
    list_select_related = ("customer", "advisor")
    show_full_result_count = False


@admin.register(m.NurturePlan)
class NurturePlanAdmin(ReadOnlyAdmin):
    list_display = ("lead", "advisor", "touches_done", "touches_planned", "period_days", "next_touch_at", "active")
    list_filter = ("active",)
    raw_id_fields = ("lead", "advisor")
    show_full_result_count = False


@admin.register(m.LeadTransition)
class LeadTransitionAdmin(ReadOnlyAdmin):
    list_display = ("lead", "from_status", "to_status", "actor", "reason", "occurred_at")
    list_filter = ("to_status", "from_status")
    search_fields = ("=lead__id", "=lead__customer__customer_no")
    raw_id_fields = ("lead", "actor")
    show_full_result_count = False


@admin.register(m.GradeDecision)
class GradeDecisionAdmin(ReadOnlyAdmin):
    list_display = ("lead", "advisor", "proposed_grade", "confirmed_grade", "overridden", "reason_code", "decided_at")
    list_filter = ("overridden", "reason_code", "confirmed_grade")
    raw_id_fields = ("lead", "advisor")
    show_full_result_count = False


@admin.register(m.LeadBranchAccess)
class LeadBranchAccessAdmin(ReadOnlyAdmin):
    list_display = ("lead", "branch", "granted_at")
    list_filter = ("branch",)
    raw_id_fields = ("lead",)
