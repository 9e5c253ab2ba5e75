from django.contrib import admin
from django.core.exceptions import ValidationError

from core.admin import ReadOnlyAdmin
from core.forms import form_add_service_errors
from customers.admin import CustomerViewRecorded

from .forms import TargetsForm
from .models import CadencePlan, CadenceTargets
from .services import TARGET_FIELDS, targets_errors, targets_update


class TargetsAdminForm(TargetsForm):
    def clean(self):
        data = super().clean()
        if not self.errors:
            # The service's rules as form errors, so the admin never saves what it refuses.
            form_add_service_errors(self, ValidationError(targets_errors(data) or {}))
        return data


@admin.register(CadenceTargets)
class CadenceTargetsAdmin(admin.ModelAdmin):
    form = TargetsAdminForm
    list_display = ["__str__", "updated_at", "updated_by"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not CadenceTargets.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Through the service: validated the same way and audited.
        data = form.cleaned_data
        saved = targets_update(actor=request.user, tiers=data["tiers"], **{name: data[name] for name in TARGET_FIELDS})
        obj.pk = saved.pk


@admin.register(CadencePlan)
class CadencePlanAdmin(CustomerViewRecorded, ReadOnlyAdmin):
    list_display = ["customer", "touch", "planned_call", "created_at"]
    list_select_related = ["customer", "planned_call"]
