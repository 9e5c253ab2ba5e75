"""Issue 16, fourth round: the groups the scanner itself reads (disclosure contexts per
category, spoken fillers), terms added to default groups after fresh development families
(D4-), three benign compounds, and four shipped concept rules with a wider window. A group
gets its added terms only while its terms are still exactly what the third round shipped,
a rule its new window only while it is still as shipped (version 1, the old pattern): an
officer's edit is left alone."""

from django.db import migrations

from compliance.lexicon_data import (
    FOURTH_ROUND_TERMS,
    REWRITTEN_DEFAULTS_4,
    THIRD_ROUND_SHIPPED,
    concept_groups_add_round_terms,
    concept_groups_load_defaults,
    lexicon_load_defaults,
    lexicon_rewrite_shipped,
)

def load(apps, schema_editor):
    group_model = apps.get_model("compliance", "ConceptGroup")
    rule_model = apps.get_model("compliance", "LexiconRule")
    version_model = apps.get_model("compliance", "LexiconRuleVersion")
    concept_groups_load_defaults(group_model)
    concept_groups_add_round_terms(group_model, THIRD_ROUND_SHIPPED, FOURTH_ROUND_TERMS)
    lexicon_load_defaults(rule_model, version_model)
    lexicon_rewrite_shipped(rule_model, version_model, REWRITTEN_DEFAULTS_4, "issue 16, fourth round of the default lexicon")


class Migration(migrations.Migration):
    dependencies = [("compliance", "0013_third_round_concepts")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
