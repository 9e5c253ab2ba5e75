"""Issue 16, third round: two new default concept groups and one concept rule (principal
and interest promised back together), and terms added to default groups after fresh
development families (D3-) — a group gets its added terms only while its terms are still
exactly what the second round shipped (an officer's edit is left alone)."""

from django.db import migrations

from compliance.lexicon_data import (
    SECOND_ROUND_TERMS,
    THIRD_ROUND_TERMS,
    concept_groups_load_defaults,
    lexicon_load_defaults,
)


def load(apps, schema_editor):
    group_model = apps.get_model("compliance", "ConceptGroup")
    concept_groups_load_defaults(group_model)
    for group in group_model.objects.filter(name__in=list(THIRD_ROUND_TERMS)):
        if group.terms != "\n".join(SECOND_ROUND_TERMS[group.name]):
            continue
        added = [t for t in THIRD_ROUND_TERMS[group.name] if t not in SECOND_ROUND_TERMS[group.name]]
        group.terms = "\n".join([*SECOND_ROUND_TERMS[group.name], *added])
        group.version += 1
        group.save(update_fields=["terms", "version", "updated_at"])
    lexicon_load_defaults(
        apps.get_model("compliance", "LexiconRule"), apps.get_model("compliance", "LexiconRuleVersion")
    )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0012_wealth_report_purpose")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
