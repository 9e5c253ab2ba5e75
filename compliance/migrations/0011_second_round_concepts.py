"""Issue 16, second round: the new default concept groups and rules, the new terms of the
default groups officers have not edited, and three shipped rules rewritten (a rate stated
as a past fact is no forecast; the benchmark rule's window; "贷款不需要买…" is no tie) —
only where the row is still as shipped (version 1, same pattern)."""

from django.db import migrations

from compliance.lexicon_data import (
    REWRITTEN_DEFAULTS_2,
    concept_groups_load_defaults,
    concept_groups_update_shipped,
    lexicon_load_defaults,
    lexicon_rewrite_shipped,
)

def load(apps, schema_editor):
    rule_model = apps.get_model("compliance", "LexiconRule")
    version_model = apps.get_model("compliance", "LexiconRuleVersion")
    group_model = apps.get_model("compliance", "ConceptGroup")
    concept_groups_load_defaults(group_model)
    concept_groups_update_shipped(group_model)
    lexicon_load_defaults(rule_model, version_model)
    lexicon_rewrite_shipped(rule_model, version_model, REWRITTEN_DEFAULTS_2, "issue 16, second round of the default lexicon")


class Migration(migrations.Migration):
    dependencies = [("compliance", "0010_text_max_length_concepts_corpus")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
