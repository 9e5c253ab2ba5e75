import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .audit import audit_target_labels, audit_verbs
from .models import AuditEvent


def _verb_choices():
    return sorted(((verb, str(label)) for verb, label in audit_verbs().items()), key=lambda c: c[1])


def _target_choices():
    """The kinds of object the log holds events about, named in words."""
    present = AuditEvent.objects.order_by().values_list("target_type", flat=True).distinct()
    labels = audit_target_labels()
    return sorted(((t, str(labels.get(t, t))) for t in present if t in labels), key=lambda c: c[1])


def _actors(request=None):
    """Staff who acted, by display name (the log never shows a username)."""
    acted = AuditEvent.objects.order_by().exclude(actor=None).values("actor").distinct()
    return (
        get_user_model()
        .objects.filter(pk__in=acted)
        .select_related("staff_profile")
        .order_by("staff_profile__display_name", "username")
    )


class _StaffField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        profile = getattr(obj, "staff_profile", None)
        return profile.display_name if profile is not None else obj.get_full_name() or obj.get_username()


class _ActorChoice(django_filters.ModelChoiceFilter):
    field_class = _StaffField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, queryset=_actors, **kwargs)


class _InlineOptionsSelect(forms.Select):
    template_name = "core/widgets/_select.html"


SMALL_SELECT = _InlineOptionsSelect(attrs={"class": "form-select form-select-sm"})
SMALL_DATE = forms.DateInput(attrs={"class": "form-control form-control-sm", "type": "date"})
SMALL_TEXT = forms.TextInput(attrs={"class": "form-control form-control-sm", "size": 8})


class AuditEventFilter(django_filters.FilterSet):
    """What a compliance officer asks of the log: who, did what, to which object, when."""

    actor = _ActorChoice(label=_("Who"), empty_label=_("Anyone"), widget=SMALL_SELECT)
    verb = django_filters.ChoiceFilter(
        label=_("Action"), choices=_verb_choices, empty_label=_("Any action"), widget=SMALL_SELECT
    )
    target_type = django_filters.ChoiceFilter(
        label=_("Object"), choices=_target_choices, empty_label=_("Any object"), widget=SMALL_SELECT
    )
    target_id = django_filters.CharFilter(label=_("Object number"), widget=SMALL_TEXT)
    since = django_filters.DateFilter(
        field_name="occurred_at", lookup_expr="date__gte", label=_("From"), widget=SMALL_DATE
    )
    until = django_filters.DateFilter(
        field_name="occurred_at", lookup_expr="date__lte", label=_("To"), widget=SMALL_DATE
    )

    class Meta:
        model = AuditEvent
        fields = ["actor", "verb", "target_type", "target_id", "since", "until"]
