from django.contrib import admin

from . import models as m


@admin.register(m.Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city")
    search_fields = ("code", "name", "city")
    list_filter = ("city",)


@admin.register(m.Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(m.StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = (
        "display_name",
        "user",
        "role",
        "employee_no",
        "team",
        "branch",
        "daily_call_capacity",
        "absent_until",
    )
    list_filter = ("role", "team", "branch")
    search_fields = ("display_name", "employee_no", "user__username")
    list_select_related = ("user", "team", "branch")
    raw_id_fields = ("user",)


@admin.register(m.Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """The working-day calendar the referral SLAs count in (holidays and make-up working days)."""

    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    search_fields = ("name",)
    date_hierarchy = "date"
