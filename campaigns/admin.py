from django.contrib import admin

from core.admin import ReadOnlyAdmin
from customers.admin import CustomerViewRecorded

from . import models as m


@admin.register(m.Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "channel", "status", "starts_on", "ends_on", "product")
    list_filter = ("status", "channel")
    search_fields = ("code", "name")
    raw_id_fields = ("product", "script", "created_by", "launch_approved_by", "audience")


@admin.register(m.CampaignStep)
class CampaignStepAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "version", "position", "kind", "channel", "script", "wait_hours", "condition")
    list_filter = ("kind", "channel")
    raw_id_fields = ("campaign", "script")


@admin.register(m.CampaignTransition)
class CampaignTransitionAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "from_status", "to_status", "actor", "occurred_at")
    list_filter = ("to_status",)
    raw_id_fields = ("campaign", "actor")


@admin.register(m.Segment)
class SegmentAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "member_count", "counted_at", "created_by")
    list_filter = ("kind",)
    search_fields = ("name",)
    raw_id_fields = ("created_by",)


@admin.register(m.SegmentMember)
class SegmentMemberAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("segment", "customer")
    raw_id_fields = ("segment", "customer")


@admin.register(m.Enrolment)
class EnrolmentAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("campaign", "customer", "version", "arm", "state", "step", "entered_at")
    list_filter = ("arm", "state")
    raw_id_fields = ("campaign", "customer", "step")


@admin.register(m.Message)
class MessageAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("campaign", "customer", "channel", "status", "send_after", "sent_at")
    list_filter = ("channel", "status")
    raw_id_fields = ("campaign", "step", "enrolment", "customer", "script_version")


@admin.register(m.JourneyEvent)
class JourneyEventAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "enrolment", "step", "kind", "detail", "at")
    list_filter = ("kind",)
    raw_id_fields = ("campaign", "enrolment", "step")


@admin.register(m.Trigger)
class TriggerAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "kind", "entry_rule", "active", "ends_on", "last_swept_at", "last_entered")
    list_filter = ("kind", "active")
    raw_id_fields = ("campaign", "updated_by")


@admin.register(m.TriggerMark)
class TriggerMarkAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("trigger", "customer", "since")
    raw_id_fields = ("trigger", "customer")


@admin.register(m.HoldoutDraw)
class HoldoutDrawAdmin(ReadOnlyAdmin):
    list_display = ("valid_from", "percent", "drawn_by", "drawn_at")
    raw_id_fields = ("drawn_by",)


@admin.register(m.Variant)
class VariantAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "position", "label", "weight", "promoted_at")
    raw_id_fields = ("campaign", "promoted_by", "step_order")


@admin.register(m.VariantStep)
class VariantStepAdmin(ReadOnlyAdmin):
    list_display = ("variant", "step", "script", "channel")
    raw_id_fields = ("variant", "step", "script")


@admin.register(m.VariantOrder)
class VariantOrderAdmin(ReadOnlyAdmin):
    list_display = ("variant", "version", "steps", "created_by", "created_at")
    raw_id_fields = ("variant", "created_by")


@admin.register(m.ResultsRefresh)
class ResultsRefreshAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "refreshed_at")
    raw_id_fields = ("campaign",)


@admin.register(m.ResultsDay)
class ResultsDayAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "arm", "variant", "day", "entered", "converted")
    list_filter = ("arm",)
    raw_id_fields = ("campaign", "variant")


@admin.register(m.HoldoutReportMonth)
class HoldoutReportMonthAdmin(ReadOnlyAdmin):
    list_display = ("month", "group", "customers", "converted", "computed_at")
    list_filter = ("group",)
