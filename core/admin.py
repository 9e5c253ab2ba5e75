from django.contrib import admin

from .models import AuditEvent, Job, Notification


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "actor", "verb", "target_type", "target_id", "ip_address")
    list_filter = ("verb", "target_type")
    search_fields = ("verb", "target_id", "actor__username", "request_id")
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    # The audit log is evidence: nobody edits or deletes it, not even an administrator.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "done", "total", "created_by", "created_at", "finished_at")
    list_filter = ("kind", "status")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "title", "created_at", "read_at")
    list_filter = ("read_at",)
    search_fields = ("title", "recipient__username")
    raw_id_fields = ("recipient",)
