from django.contrib import admin

from core.admin import ReadOnlyAdmin

from . import models as m


@admin.register(m.Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "channel", "status", "starts_on", "ends_on", "product")
    list_filter = ("status", "channel")
    search_fields = ("code", "name")
    raw_id_fields = ("product", "script", "created_by")
