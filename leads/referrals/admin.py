from django.contrib import admin

from .models import FollowUp, Holiday, ReferralEvent, SlaBreach


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """The working-day calendar the referral SLAs count in (holidays and make-up working days)."""

    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    search_fields = ("name",)
    date_hierarchy = "date"


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("referral", "kind", "occurred_at", "reached", "actor")
    list_filter = ("kind",)
    raw_id_fields = ("referral", "actor")


@admin.register(ReferralEvent)
class ReferralEventAdmin(admin.ModelAdmin):
    list_display = ("referral", "verb", "from_status", "to_status", "actor", "occurred_at")
    list_filter = ("verb",)
    raw_id_fields = ("referral", "actor")


@admin.register(SlaBreach)
class SlaBreachAdmin(admin.ModelAdmin):
    list_display = ("referral", "stage", "due_at", "breached_at", "escalated_at", "resolved_at")
    list_filter = ("stage",)
    raw_id_fields = ("referral",)
