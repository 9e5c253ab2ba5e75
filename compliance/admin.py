from django.contrib import admin

from core.admin import ReadOnlyAdmin
from customers.admin import CustomerViewRecorded

from . import models as m


@admin.register(m.Script)
class ScriptAdmin(ReadOnlyAdmin):
    list_display = ("title", "product", "product_type", "purpose", "author", "created_at")
    list_filter = ("purpose", "product_type")
    search_fields = ("title",)


@admin.register(m.ScriptVersion)
class ScriptVersionAdmin(ReadOnlyAdmin):
    list_display = ("script", "number", "status", "author", "submitted_at", "decided_at", "decided_by")
    list_filter = ("status",)


@admin.register(m.ScriptReview)
class ScriptReviewAdmin(ReadOnlyAdmin):
    list_display = ("version", "actor", "action", "created_at")
    list_filter = ("action",)


@admin.register(m.LexiconRule)
class LexiconRuleAdmin(ReadOnlyAdmin):
    list_display = ("code", "pattern", "is_regex", "language", "category", "severity", "is_active", "version")
    list_filter = ("category", "language", "severity", "is_active")
    search_fields = ("code", "pattern")


@admin.register(m.Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "source", "advisor", "rule_code", "severity", "status", "outcome", "created_at")
    list_filter = ("kind", "status", "severity", "outcome")


@admin.register(m.FlagReview)
class FlagReviewAdmin(ReadOnlyAdmin):
    list_display = ("flag", "actor", "action", "outcome", "created_at")


@admin.register(m.ScriptFinding)
class ScriptFindingAdmin(ReadOnlyAdmin):
    list_display = ("version", "kind", "code", "severity", "match", "acknowledged_by")
    list_filter = ("kind", "severity")


@admin.register(m.LexiconRuleVersion)
class LexiconRuleVersionAdmin(ReadOnlyAdmin):
    list_display = ("rule", "version", "changed_by", "changed_at", "note")


@admin.register(m.Communication)
class CommunicationAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("source", "object_id", "advisor", "customer", "occurred_at", "scanned_at")
    list_filter = ("source",)
    raw_id_fields = ("customer", "advisor")


@admin.register(m.QASamplingConfig)
class QASamplingConfigAdmin(ReadOnlyAdmin):
    list_display = ("share_percent", "minimum_per_advisor", "updated_by", "updated_at")


@admin.register(m.QASampleRun)
class QASampleRunAdmin(ReadOnlyAdmin):
    list_display = ("week_start", "share_percent", "sampled", "created_at")


@admin.register(m.ConceptGroup)
class ConceptGroupAdmin(ReadOnlyAdmin):
    list_display = ("name", "description", "version", "owner", "updated_at")
    search_fields = ("name", "terms")


@admin.register(m.LexiconRuleStats)
class LexiconRuleStatsAdmin(ReadOnlyAdmin):
    list_display = ("rule", "hits", "confirmed", "dismissed")


@admin.register(m.CorpusEntry)
class CorpusEntryAdmin(ReadOnlyAdmin):
    list_display = ("label", "language", "flag", "added_by", "created_at")
    list_filter = ("label", "language")
    search_fields = ("text",)
