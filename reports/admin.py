from django.contrib import admin

from customers.admin import CustomerViewRecorded

from .models import WealthReport


@admin.register(WealthReport)
class WealthReportAdmin(CustomerViewRecorded, admin.ModelAdmin):
    list_display = ("customer", "year", "language", "generated_at", "delivered_at", "delivery_channel")
    list_filter = ("year", "delivery_channel")
    raw_id_fields = ("customer", "script_version", "generated_by", "delivered_by", "job")
    readonly_fields = ("text",)
