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
