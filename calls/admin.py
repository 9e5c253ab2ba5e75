from django.contrib import admin

from core.admin import ReadOnlyAdmin
from customers.admin import CustomerViewRecorded

from .models import CallLog, Disposition


@admin.register(Disposition)
class DispositionAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "label_en", "connected", "effective", "requests_callback", "active", "sort_order")
    list_editable = ("active", "sort_order")
    list_filter = ("active", "connected", "effective")
    search_fields = ("code", "label", "label_en")


@admin.register(CallLog)
class CallLogAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "advisor", "started_at", "disposition", "purpose", "next_action", "won_amount")
    list_filter = ("purpose", "disposition", "next_action")
    search_fields = ("=customer__customer_no", "=idempotency_key")
    raw_id_fields = ("lead", "customer", "advisor", "won_product", "interaction", "outcome")
    filter_horizontal = ("products", "needs")
    list_select_related = ("customer", "advisor", "disposition")
    show_full_result_count = False
