"""Forms of the customer app: reveal, manual tags, import upload and column mapping."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .ingest import schema_for
from .models import ImportKind, ImportMapping, Tag, TagSource

REVEAL_CHOICES = [("mobile", _("Mobile number")), ("id_number", _("ID number"))]


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=REVEAL_CHOICES, label=_("Field"))
    reason = forms.CharField(
        label=_("Reason"),
        min_length=4,
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. calling back about the maturing product")}),
    )


class TagAddForm(forms.Form):
    tag = forms.ModelChoiceField(queryset=Tag.objects.filter(source=TagSource.MANUAL), label=_("Tag"))


UPLOAD_SUFFIXES = (".csv", ".xlsx", ".xlsm")


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices, label=_("Data"))
    file = forms.FileField(label=_("CSV or Excel file"), max_length=200)
    mapping = forms.ModelChoiceField(
        queryset=ImportMapping.objects.all(), required=False, label=_("Saved column mapping"), empty_label=_("Guess")
    )

    def clean_file(self):
        """Only what the import reads: a .txt (or a .pdf, a .docx) is refused by its name,
        with the reason, before it is stored."""
        file = self.cleaned_data["file"]
        if not (file.name or "").lower().endswith(UPLOAD_SUFFIXES):
            raise forms.ValidationError(
                _("“%(name)s” is not a CSV (.csv) or Excel (.xlsx) file; save it as one of these and upload again."),
                code="file_type",
                params={"name": file.name},
            )
        return file


class MappingForm(forms.Form):
    """One choice per target field: which of the file's columns feeds it."""

    save_as = forms.CharField(label=_("Save this mapping as"), required=False, max_length=100)

    def __init__(self, *args, kind: str, headers: list[str], initial_columns: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("(not in the file)"))] + [(h, h) for h in headers if h]
        self.specs = schema_for(kind).fields
        for spec in self.specs:
            label = f"{spec.label}{' *' if spec.required else ''}"
            self.fields[f"col_{spec.name}"] = forms.ChoiceField(
                choices=choices, required=spec.required, label=label, initial=initial_columns.get(spec.name, "")
            )
        self.order_fields([f"col_{s.name}" for s in self.specs] + ["save_as"])

    def columns(self) -> dict[str, str]:
        return {
            s.name: self.cleaned_data.get(f"col_{s.name}") for s in self.specs if self.cleaned_data.get(f"col_{s.name}")
        }
