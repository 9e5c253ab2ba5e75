"""Issue 16, sixth round: terms added to default concept groups after the fresh development
families D6- (a third writer's). A group gets them only while its terms are still exactly
what the fifth round shipped: an officer's edit is left alone."""

from django.db import migrations

from compliance.lexicon_data import FIFTH_ROUND_SHIPPED, SIXTH_ROUND_TERMS


def load(apps, schema_editor):
    group_model = apps.get_model("compliance", "ConceptGroup")
    for group in group_model.objects.filter(name__in=list(SIXTH_ROUND_TERMS)):
        shipped = FIFTH_ROUND_SHIPPED[group.name]
        if group.terms != "\n".join(shipped):
            continue
        group.terms = "\n".join([*shipped, *(t for t in SIXTH_ROUND_TERMS[group.name] if t not in shipped)])
        group.version += 1
        group.save(update_fields=["terms", "version", "updated_at"])


class Migration(migrations.Migration):
    dependencies = [("compliance", "0015_fifth_round_concepts")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
