"""Issue 16, seventh round: after the fresh development families D7- (a fourth writer's),
new default concept groups (insinuations about other institutions, favours for buyers,
advice against switching, a refusal to call a product the best) and three concept rules;
terms added to default groups, a group getting them only while its terms are still exactly
what the sixth round shipped; and the English bundling rule's window widened, on a rule
still as shipped. An officer's edit is left alone."""

from django.db import migrations

from compliance.lexicon_data import (
    REWRITTEN_DEFAULTS_7,
    SEVENTH_ROUND_TERMS,
    SIXTH_ROUND_SHIPPED,
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
    concept_groups_add_round_terms(group_model, SIXTH_ROUND_SHIPPED, SEVENTH_ROUND_TERMS)
    lexicon_rewrite_shipped(rule_model, version_model, REWRITTEN_DEFAULTS_7, "issue 16, seventh round")
    lexicon_load_defaults(rule_model, version_model)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0016_sixth_round_concepts")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
