from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from core.admin import ReadOnlyAdmin
from customers.admin import CustomerViewRecorded

from . import models as m
from .services import settings as setting_services


@admin.register(m.ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("version", "is_active", "trained_at", "trained_by", "activated_at")
    list_filter = ("is_active",)
    search_fields = ("version",)
    exclude = ("artifact",)
    readonly_fields = ("version", "features", "metrics", "params", "is_active", "trained_by", "activated_at", "note")

    def has_add_permission(self, request):
        return False  # versions come from training; activation goes through the model page (audited)


@admin.register(m.ScoreDistribution)
class ScoreDistributionAdmin(ReadOnlyAdmin):
    """Written by each full rescoring; read by the model page."""

    list_display = ("computed_at", "total", "job")
    exclude = ("counts",)


class ScoringSettingsForm(forms.ModelForm):
    class Meta:
        model = m.ScoringSettings
        fields = ("rules",)

    def clean_rules(self):
        rules = self.cleaned_data["rules"]
        try:
            setting_services.rules_validate(rules)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return rules


@admin.register(m.ScoringSettings)
class ScoringSettingsAdmin(admin.ModelAdmin):
    """The cold-start rules are edited here, through ``setting_services.rules_update`` (audited);
    the grade cutoffs on the model page, through ``setting_services.cutoffs_update``."""

    form = ScoringSettingsForm
    list_display = ("high_cutoff", "mid_cutoff", "updated_at", "updated_by")
    readonly_fields = ("high_cutoff", "mid_cutoff", "updated_at", "updated_by")

    def has_add_permission(self, request):
        return False  # one row, created on first use

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        setting_services.rules_update(actor=request.user, rules=form.cleaned_data["rules"])


@admin.register(m.CustomerScore)
class CustomerScoreAdmin(ReadOnlyAdmin):
    list_display = ("customer", "score", "grade", "method", "model_version", "scored_at")
    list_filter = ("grade", "method")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer",)
    show_full_result_count = False


@admin.register(m.Outcome)
class OutcomeAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "contacted_at", "channel", "converted", "amount", "source")
    list_filter = ("converted", "source", "channel")
    search_fields = ("=customer__customer_no", "=external_key")
    raw_id_fields = ("customer", "product")
    show_full_result_count = False


@admin.register(m.UpliftModelVersion)
class UpliftModelVersionAdmin(ReadOnlyAdmin):
    """Written by the uplift training job (``campaigns.uplift``); read on the uplift page."""

    list_display = ("version", "is_active", "trained_at", "trained_by", "scored_at", "scored_customers")
    list_filter = ("is_active",)
    search_fields = ("version",)
    exclude = ("artifact",)

    def has_add_permission(self, request):
        return False


@admin.register(m.CustomerUplift)
class CustomerUpliftAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ("customer", "uplift", "p_treated", "p_control", "version", "scored_at")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer", "version")
    show_full_result_count = False
