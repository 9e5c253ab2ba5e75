from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import DailyFact, DailyRefresh


@admin.register(DailyFact)
class DailyFactAdmin(ReadOnlyAdmin):
    list_display = ("day", "metric", "detail", "advisor_id", "team_id", "branch_id", "campaign_id", "count", "amount")
    list_filter = ("metric",)
    date_hierarchy = "day"


@admin.register(DailyRefresh)
class DailyRefreshAdmin(ReadOnlyAdmin):
    list_display = ("day", "refreshed_at", "rows")
