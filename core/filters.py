import django_filters
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    verb = django_filters.CharFilter(label=_("Verb"), lookup_expr="startswith")
    target_type = django_filters.CharFilter(label=_("Target type"))
    target_id = django_filters.CharFilter(label=_("Target id"))
    actor = django_filters.CharFilter(field_name="actor__username", label=_("Actor (username)"))
    since = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__lte", label=_("To"))

    class Meta:
        model = AuditEvent
        fields = ["verb", "target_type", "target_id", "actor", "since", "until"]
