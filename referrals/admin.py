from django.contrib import admin

from core.admin import ReadOnlyAdmin
from customers.admin import CustomerViewRecorded

from .models import FollowUp, Referral, ReferralEvent, SlaBreach


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ("referral", "kind", "occurred_at", "reached", "actor")
    list_filter = ("kind",)
    raw_id_fields = ("referral", "actor")


@admin.register(ReferralEvent)
class ReferralEventAdmin(ReadOnlyAdmin):
    list_display = ("referral", "verb", "from_status", "to_status", "actor", "occurred_at")
    list_filter = ("verb",)
    raw_id_fields = ("referral", "actor")


@admin.register(SlaBreach)
class SlaBreachAdmin(ReadOnlyAdmin):
    list_display = ("referral", "stage", "due_at", "breached_at", "escalated_at", "resolved_at")
    list_filter = ("stage",)
    raw_id_fields = ("referral",)


@admin.register(Referral)
class ReferralAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "branch", "status", "from_advisor", "assigned_rm", "converted_amount", "created_at")
    list_filter = ("status", "branch")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("lead", "customer", "from_advisor", "assigned_rm")
    list_select_related = ("customer", "branch", "from_advisor", "assigned_rm")
