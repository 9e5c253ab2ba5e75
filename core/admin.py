"""Admin of the core models, and the read-only base every app's evidence and workflow
models use: those change only through their services (with audit rows and history), so
the admin shows them and never writes them, not even for an administrator."""

from django.contrib import admin

from .models import AuditEvent, Job, JobChunk, Notification


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "actor", "verb", "target_type", "target_id", "ip_address")
    list_filter = ("verb", "target_type")
    search_fields = ("verb", "target_id", "actor__username", "request_id")
    date_hierarchy = "occurred_at"


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "status", "done", "total", "created_by", "created_at", "finished_at")
    list_filter = ("kind", "status")


@admin.register(JobChunk)
class JobChunkAdmin(ReadOnlyAdmin):
    list_display = ("job", "lo", "hi", "attempts", "claimed_at", "done_at")
    list_filter = ("done_at",)
    raw_id_fields = ("job",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("recipient", "title", "created_at", "read_at")
    list_filter = ("read_at",)
    search_fields = ("title", "recipient__username")
    raw_id_fields = ("recipient",)
