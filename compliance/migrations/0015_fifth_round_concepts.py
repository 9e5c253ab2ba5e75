"""Issue 16, fifth round: terms added to default concept groups after the fresh development
families D5-. A group gets them only while its terms are still exactly what the fourth
round shipped: an officer's edit is left alone."""

from django.db import migrations

from compliance.lexicon_data import FOURTH_ROUND_SHIPPED, FIFTH_ROUND_TERMS, concept_groups_add_round_terms


def load(apps, schema_editor):
    concept_groups_add_round_terms(apps.get_model("compliance", "ConceptGroup"), FOURTH_ROUND_SHIPPED, FIFTH_ROUND_TERMS)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0014_fourth_round_concepts")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
