from django.contrib import admin

from core.admin import ReadOnlyAdmin
from customers.admin import CustomerViewRecorded

from .models import WealthReport


# Read only: generating, replacing and sending a report go through reports.services (the
# approved wording, the compliance scan, the audit and the PIPL records).
@admin.register(WealthReport)
class WealthReportAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "year", "language", "generated_at", "delivered_at", "delivery_channel")
    list_filter = ("year", "delivery_channel")
    list_select_related = ("customer",)
