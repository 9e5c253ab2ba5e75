"""Issue 16, sixth round: terms added to default concept groups after the fresh development
families D6- (a third writer's). A group gets them only while its terms are still exactly
what the fifth round shipped: an officer's edit is left alone."""

from django.db import migrations

from compliance.lexicon_data import FIFTH_ROUND_SHIPPED, SIXTH_ROUND_TERMS, concept_groups_add_round_terms


def load(apps, schema_editor):
    concept_groups_add_round_terms(apps.get_model("compliance", "ConceptGroup"), FIFTH_ROUND_SHIPPED, SIXTH_ROUND_TERMS)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0015_fifth_round_concepts")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
